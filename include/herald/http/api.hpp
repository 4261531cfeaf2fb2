// handle_request: the whole REST API as one plain function of a request (store calls are its
// only I/O), so tests call it without a server.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "herald/http/message.hpp"
#include "herald/http/server.hpp"

namespace herald::http {

class Api {
 public:
  // Keeps references to config-owned services; both must outlive the Api.
  Api(const ServerConfig& config, const Services& services);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Routes, authenticates and runs the handler. Never throws: infrastructure failures become
  // 503 (database unreachable) or 500 with no detail, and are logged.
  Response handle(const Request& request);

  // While draining, /readyz answers 503 so load balancers move away.
  void set_draining(bool draining) { draining_ = draining; }
  // While starting (the database not yet reached), only the operations routes answer; every
  // other route is 503 with Retry-After. Services must not change once starting is cleared.
  void set_starting(bool starting) { starting_.store(starting, std::memory_order_release); }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> starting_{false};
};

// (method, path pattern) of every route, in table order.
std::vector<std::pair<std::string, std::string>> api_routes();
// The OpenAPI 3 document served at GET /v1/openapi.json (embedded at build time).
std::string_view openapi_document();

}  // namespace herald::http

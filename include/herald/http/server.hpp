// The HTTP server: configuration, the services handlers use, and the Beast server behind a pimpl.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "herald/domain/deployment.hpp"

namespace herald::store {
class Database;
}
namespace herald::rules {
struct RulesConfig;
struct Clock;
}  // namespace herald::rules

namespace herald::http {

struct ServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t body_limit = 1 << 20;
  std::chrono::seconds header_timeout{10}, body_timeout{30}, idle_timeout{75};
  int json_max_depth = 32;
  std::size_t worker_threads = 4;
  std::string default_region = "US";
  std::string web_root;  // directory holding portal/ and admin/; empty: no static files
  std::chrono::seconds customer_token_ttl{3600};
};

struct Services {
  store::Database& db;
  const rules::RulesConfig& rules;
  const PublicUrls& public_urls;  // how providers reach us: the URL Twilio signs
  const TokenSecret& token_secret;
  std::vector<std::string> twilio_auth_tokens;
  std::function<bool()> ready;  // database reachable and migrations current
  const rules::Clock& clock;
};

class Server {
 public:
  Server(ServerConfig config, Services services);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (port 0: an ephemeral port) and returns the bound port. Throws when it cannot bind.
  std::uint16_t listen();
  // Serves until stop() has drained; call from one thread, after listen().
  void run();
  // Thread-safe: stop accepting, let in-flight requests finish up to grace, then close the rest.
  void stop(std::chrono::milliseconds grace);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::http

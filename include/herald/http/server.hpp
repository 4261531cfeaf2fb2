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
#include "herald/http/rate_limit.hpp"

namespace herald::store {
class Database;
}
namespace herald::rules {
struct RulesConfig;
struct Clock;
class TemplateStore;
}  // namespace herald::rules
namespace herald::engine {
class InboundPipeline;
}
namespace herald::gateways {
struct VoiceSettings;
}

namespace herald::http {

// Double opt-in of contacts a customer adds on the web ([contacts] in heraldd.toml).
struct ContactVerificationConfig {
  std::chrono::seconds code_ttl{15 * 60};
  int max_attempts = 5;  // wrong codes before the pending contact is locked
  int sends_per_hour_per_customer = 5;
  int sends_per_hour_per_address = 5;
};

struct ServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t body_limit = 1 << 20;
  std::chrono::seconds header_timeout{10}, body_timeout{30}, idle_timeout{75};
  int json_max_depth = 32;
  // Request handlers running at once; the server runs one thread more, so reading requests and
  // timeouts go on while all of them are busy.
  std::size_t worker_threads = 4;
  std::string default_region = "US";
  std::string web_root;  // directory holding portal/ and admin/; empty: no static files
  std::chrono::seconds customer_token_ttl{3600};
  RateLimits rate_limits;
  ContactVerificationConfig contact_verification;
  // Each response says where its time went in a Server-Timing header (queued for a worker,
  // waiting for a connection, holding it, the Postgres backend's pid): for profiling only.
  bool server_timing = false;
};

struct Services {
  store::Database& db;
  const rules::RulesConfig& rules;
  const PublicUrls& public_urls;  // how providers reach us: the URL Twilio signs
  const TokenSecret& token_secret;
  std::vector<std::string> twilio_auth_tokens;
  std::function<bool()> ready;  // database reachable and migrations current
  const rules::Clock& clock;
  const rules::TemplateStore* templates = nullptr;  // contact verification texts; none: 503 for them
  std::vector<std::string> kannel_webhook_tokens{};  // any kannel gateway's webhook_token
  // Where the inbound webhooks hand received texts; nullptr: they answer 503.
  engine::InboundPipeline* inbound = nullptr;
  // What calls say around their message ([voice]); nullptr: the built-in English and Spanish.
  const gateways::VoiceSettings* voice = nullptr;
};

class Server {
 public:
  Server(ServerConfig config, Services services);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds (port 0: an ephemeral port) and returns the bound port. Throws when it cannot bind.
  std::uint16_t listen();
  // Serves until stop() has drained, on the calling thread and worker_threads more; call from
  // one thread, after listen().
  void run();
  // Thread-safe: stop accepting, let in-flight requests finish up to grace, then close the rest.
  void stop(std::chrono::milliseconds grace);

  // Before listen(): serve only health, metrics and the API description (every other route
  // 503) until open(). For a daemon whose database, and so its token secret, is not there yet.
  void start_closed();
  // Thread-safe: serves every route from now on. Whatever the services refer to (the token
  // secret) must be in place before: requests read it only after open().
  void open();
  // Thread-safe: /readyz answers 503 from now on while the listener still accepts, so a load
  // balancer sees the instance leave before its connections are refused.
  void set_draining();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::http

// `heraldd serve`: wires store, rules, gateways, engine and HTTP; drains on SIGTERM.
#include <atomic>
#include <csignal>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "herald/app/commands.hpp"
#include "herald/domain/metrics.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/engine/engine.hpp"
#include "herald/http/server.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/outbox.hpp"

namespace herald::app {

namespace {

// Readiness: the database answers and migrations are current. Cached for a second so that
// probes do not hammer the database.
class Readiness {
 public:
  Readiness(store::Database& db, std::string migrations_dir) : db_(db), dir_(std::move(migrations_dir)) {}
  void set_draining() { draining_ = true; }
  bool ready() {
    if (draining_) return false;
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (now - checked_ < std::chrono::seconds(1)) return last_;
    checked_ = now;
    try {
      last_ = db_.ping() && store::migrations_current(db_, dir_);
    } catch (const std::exception&) {
      last_ = false;
    }
    return last_ && !draining_;
  }

 private:
  store::Database& db_;
  std::string dir_;
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  std::chrono::steady_clock::time_point checked_{};
  bool last_ = false;
};

std::string random_instance_id() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + random_token(4);
}

// Builds every configured channel's failover chain. Throws naming the key on a bad gateway.
std::map<Channel, std::vector<engine::GatewaySlot>> build_routes(const Config& config,
                                                                 std::vector<std::string>& twilio_tokens) {
  std::map<Channel, std::vector<engine::GatewaySlot>> routes;
  for (const auto& [channel, names] : config.channels) {
    for (const auto& name : names) {
      auto it = config.gateways.find(name);
      if (it == config.gateways.end())
        throw std::runtime_error("channels." + std::string(to_string(channel)) + ": no gateway named '" + name + "'");
      auto g = it->second;
      g.channel = channel;
      auto made = gateways::make_gateway(g);
      if (!made) throw std::runtime_error(made.error().message);
      routes[channel].push_back(engine::GatewaySlot{std::shared_ptr<gateways::Gateway>(std::move(*made)),
                                                    g.rate_per_second, g.burst});
      if (g.type == "twilio" && g.settings.count("auth_token")) twilio_tokens.push_back(g.settings.at("auth_token"));
    }
  }
  return routes;
}

}  // namespace

int run_serve(const Config& config) {
  // Signals are taken by one thread with sigwait; every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  store::Database db(config.database_url, config.database_pool_size);
  rules::SystemClock clock;
  rules::TemplateStore templates(config.templates_dir);
  if (const auto bad = templates.validate(); !bad.empty()) {
    spdlog::error("templates do not compile: {}", bad.front());
    return 2;
  }

  std::vector<std::string> twilio_tokens;
  engine::EngineConfig engine_config;
  engine_config.intake = config.intake;
  engine_config.dispatch = config.dispatch;
  engine_config.dispatch.status_callback_url = config.public_urls.twilio_status_callback();
  engine_config.instance_id = random_instance_id();
  try {
    engine_config.routes = build_routes(config, twilio_tokens);
  } catch (const std::exception& e) {
    spdlog::error("bad gateway configuration: {}", e.what());
    return 2;
  }

  // The secret may live in the database, which may still be starting: retry for a while.
  TokenSecret secret;
  for (int attempt = 0;; ++attempt) {
    try {
      secret = token_secret(config, db);
      break;
    } catch (const std::exception& e) {
      if (attempt >= 60) {
        spdlog::error("database unreachable: {}", e.what());
        return 1;
      }
      if (attempt == 0) spdlog::warn("waiting for the database: {}", e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  auto rules = config.rules;
  rules.public_urls = &config.public_urls;
  rules.token_secret = &secret;

  Readiness readiness(db, config.migrations_dir);
  metrics::Registry::global().gauge_callback("herald_queue_depth", "Messages waiting or in flight, by status", [&db] {
    std::vector<std::pair<metrics::Labels, double>> out;
    for (const auto& [status, count] : store::queue_depth(db)) out.push_back({{{"status", status}}, count});
    return out;
  });

  engine::Engine engine(db, engine_config, rules, templates, clock);
  http::Server server(config.http, http::Services{db, rules, config.public_urls, secret, twilio_tokens, [&] { return readiness.ready(); }, clock});
  const auto port = server.listen();
  spdlog::info("heraldd listening on {}:{} (instance {})", config.http.address, port, engine_config.instance_id);
  engine.start();

  std::atomic<bool> stopped{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (stopped) return;
    spdlog::info("signal {}: draining (grace {} s)", sig, config.shutdown_grace.count());
    readiness.set_draining();
    // A watchdog: whatever is still running when the grace period ends is abandoned; its
    // leases lapse and another instance (or the next start) picks the messages up.
    std::thread([grace = config.shutdown_grace] {
      std::this_thread::sleep_for(grace);
      spdlog::error("shutdown grace period over; exiting");
      std::_Exit(1);
    }).detach();
    auto engine_done = std::async(std::launch::async, [&] { engine.stop(); });
    server.stop(std::chrono::duration_cast<std::chrono::milliseconds>(config.shutdown_grace));
    engine_done.wait();
  });

  server.run();
  stopped = true;
  if (signal_thread.joinable()) {
    // run() returns only after stop(); the signal thread is finishing the engine.
    signal_thread.join();
  }
  spdlog::info("heraldd stopped");
  return 0;
}

}  // namespace herald::app

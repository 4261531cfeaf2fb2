// `heraldd serve`: wires store, rules, gateways, engine and HTTP; drains on SIGTERM.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <future>
#include <optional>
#include <iostream>
#include <mutex>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "herald/app/actions.hpp"
#include "herald/app/commands.hpp"
#include "herald/domain/metrics.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/engine/engine.hpp"
#include "herald/engine/report_forwarder.hpp"
#include "herald/engine/text_indexer.hpp"
#include "herald/http/server.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/outbox.hpp"
#include "herald/store/pool.hpp"

namespace herald::app {

namespace {

// Readiness: the daemon has started (database reached), the database answers and migrations
// are current. Cached for a second so that probes do not hammer the database.
class Readiness {
 public:
  Readiness(store::Database& db, std::string migrations_dir) : db_(db), dir_(std::move(migrations_dir)) {}
  void set_started() { started_ = true; }
  void set_draining() { draining_ = true; }
  bool ready() {
    if (draining_ || !started_) return false;
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
  std::atomic<bool> started_{false};
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  std::chrono::steady_clock::time_point checked_{};
  bool last_ = false;
};

// What the daemon waits for before it starts its engine and opens its API: the database
// answers, its migrations are current, and the token secret can be read from it.
// Returns the token secret, or why not yet.
struct DatabaseCheck {
  TokenSecret secret;
  std::string problem;
};
DatabaseCheck check_database(const Config& config, store::Database& db) {
  try {
    if (!store::migrations_current(db, config.migrations_dir))
      return {{}, "migrations are not current (run heraldd migrate)"};
    return {token_secret(config, db), ""};
  } catch (const std::exception& e) {
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    return {{}, what.empty() ? "unreachable" : what};
  }
}

constexpr auto kFirstRetry = std::chrono::milliseconds(500);
constexpr auto kMaxRetry = std::chrono::milliseconds(5000);

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
  store::set_background_thread_nice(config.background_nice);
  store::set_background_backend_nice(config.database_background_nice);
  rules::SystemClock clock;
  rules::TemplateStore templates(config.templates_dir);
  if (const auto bad = templates.validate(); !bad.empty()) {
    spdlog::error("templates do not compile: {}", bad.front());
    return 2;
  }

  std::vector<std::string> twilio_tokens;
  engine::EngineConfig engine_config;
  engine_config.intake = config.intake;
  engine_config.outages = config.outages;
  engine_config.dispatch = config.dispatch;
  engine_config.dispatch.status_callback_url = config.public_urls.twilio_status_callback();
  engine_config.dispatch.voice_url = config.public_urls.twilio_voice();
  engine_config.instance_id = random_instance_id();
  // Before the pool's first connection: the starter's readiness check opens it.
  db.set_session({"heraldd " + engine_config.instance_id, config.database_idle_transaction_timeout});
  try {
    engine_config.routes = build_routes(config, twilio_tokens);
  } catch (const std::exception& e) {
    spdlog::error("bad gateway configuration: {}", e.what());
    return 2;
  }

  // Kannel's DLR and MO webhooks accept the token of any kannel gateway, in a channel or not.
  std::vector<std::string> kannel_tokens;
  for (const auto& [name, g] : config.gateways)
    if (g.type == "kannel" && g.settings.count("webhook_token")) kannel_tokens.push_back(g.settings.at("webhook_token"));

  // Filled in by the starter once the database is there; nothing reads it before (the API
  // answers only health routes, the engine has not started).
  TokenSecret secret;
  auto rules = config.rules;
  rules.public_urls = &config.public_urls;
  rules.token_secret = &secret;
  Readiness readiness(db, config.migrations_dir);
  // Inbound SMS webhooks hand texts to this pipeline; its actions are registered once, here.
  engine::ActionRegistry actions;
  register_actions(actions, config, db);
  engine::InboundPipeline inbound(db, config.inbound, actions, clock);
  // Listens at once, the database or not: /livez answers, /readyz says 503 until started.
  http::Server server(config.http, http::Services{db, rules, config.public_urls, secret, twilio_tokens,
                                                  [&] { return readiness.ready(); }, clock, &templates,
                                                  kannel_tokens, &inbound, &config.voice});
  server.start_closed();
  const auto port = server.listen();
  spdlog::info("heraldd listening on {}:{} (instance {})", config.http.address, port, engine_config.instance_id);

  // The engine starts, and the API opens, once the database is there. Until then the
  // starter retries with backoff; SIGTERM ends the wait.
  std::mutex start_mu;
  std::condition_variable start_cv;
  bool stopping = false;  // guarded by start_mu
  std::optional<engine::Engine> engine;  // guarded by start_mu until stopping
  std::optional<engine::ReportForwarder> forwarder;  // the same
  engine::TextIndexer text_indexer(db, config.search);
  std::thread starter([&] {
    auto delay = std::chrono::milliseconds(kFirstRetry);
    DatabaseCheck check;
    for (;;) {
      check = check_database(config, db);
      if (check.problem.empty()) break;
      spdlog::warn("waiting for the database: {}; retrying in {} ms", check.problem, delay.count());
      std::unique_lock lock(start_mu);
      if (start_cv.wait_for(lock, delay, [&] { return stopping; })) return;
      delay = std::min(delay * 2, std::chrono::milliseconds(kMaxRetry));
    }
    std::lock_guard lock(start_mu);
    if (stopping) return;
    secret = std::move(check.secret);
    metrics::Registry::global().gauge_callback("herald_queue_depth", "Messages waiting or in flight, by status", [&db] {
      std::vector<std::pair<metrics::Labels, double>> out;
      for (const auto& [status, count] : store::queue_depth(db)) out.push_back({{{"status", status}}, count});
      return out;
    });
    engine.emplace(db, engine_config, rules, templates, clock);
    engine->start();
    forwarder.emplace(db, config.oms, clock, engine_config.instance_id);
    forwarder->start();
    text_indexer.start();
    server.open();
    readiness.set_started();
    spdlog::info("database ready: engine started, API open");
  });

  std::atomic<bool> stopped{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (stopped) return;
    bool started = false;
    {
      std::lock_guard lock(start_mu);
      stopping = true;
      started = engine.has_value();
    }
    start_cv.notify_all();
    spdlog::info("signal {}: draining (grace {} s)", sig, config.shutdown_grace.count());
    readiness.set_draining();
    server.set_draining();
    // What the drain still waits for, named in the log if the grace period ends first.
    static std::atomic<bool> engine_running{true}, indexer_running{true}, forwarder_running{true},
        http_running{true};
    // A watchdog: whatever is still running when the grace period ends is abandoned; its
    // leases lapse and another instance (or the next start) picks the messages up.
    std::thread([grace = config.shutdown_grace] {
      std::this_thread::sleep_for(grace);
      std::string left;
      for (const auto& [name, running] : {std::pair{"engine", &engine_running}, std::pair{"text indexer", &indexer_running},
                                          std::pair{"report forwarder", &forwarder_running},
                                          std::pair{"http server", &http_running}})
        if (running->load()) left += std::string(left.empty() ? "" : ", ") + name;
      spdlog::error("shutdown grace period over; exiting (still stopping: {})", left.empty() ? "nothing" : left);
      spdlog::default_logger()->flush();
      std::_Exit(1);
    }).detach();
    // Load balancers poll /readyz: give them the delay to see 503 and move away before new
    // connections are refused. An instance that never became ready has nobody to tell.
    auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(config.shutdown_grace);
    if (started && config.drain_delay.count() > 0) {
      spdlog::info("readiness 503 for {} s before the listener closes", config.drain_delay.count());
      std::this_thread::sleep_for(config.drain_delay);
      grace -= config.drain_delay;
    }
    // Side by side: the engine's drain must not wait for an indexer round (which may itself be
    // waiting for a connection behind the dispatch rounds the drain is about to end).
    auto engine_done = std::async(std::launch::async, [&] {
      if (started) engine->stop();
      engine_running = false;
    });
    auto indexer_done = std::async(std::launch::async, [&] {
      text_indexer.stop();
      indexer_running = false;
    });
    auto forwarder_done = std::async(std::launch::async, [&] {
      if (started) forwarder->stop();
      forwarder_running = false;
    });
    server.stop(grace);
    http_running = false;
    engine_done.wait();
    indexer_done.wait();
    forwarder_done.wait();
  });

  server.run();
  stopped = true;
  starter.join();
  if (signal_thread.joinable()) {
    // run() returns only after stop(); the signal thread is finishing the engine.
    signal_thread.join();
  }
  spdlog::info("heraldd stopped");
  return 0;
}

}  // namespace herald::app

// The loops that move rows: intake (events -> messages) and dispatch (messages -> gateways).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/decide.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/db.hpp"

namespace herald::engine {

struct IntakeConfig {
  std::size_t batch_size = 2000;
  // Threads turning events into messages; each claims its own batch (SKIP LOCKED), so one
  // renders while the others wait on Postgres. 0: this instance takes no events (a dispatch-
  // or API-only instance in a scaled-out deployment).
  std::size_t workers = 3;
  std::chrono::milliseconds poll_interval{1000};
};

struct DispatchConfig {
  std::size_t batch_size = 1000;
  std::size_t workers = 2;  // dispatch threads; each leases batch_size / workers at a time; 0: no dispatch
  std::chrono::seconds lease{30};
  std::chrono::milliseconds poll_interval{500};
  int max_attempts = 5;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{300000};
  int breaker_failures = 5;
  std::chrono::seconds breaker_open{30};
  std::string status_callback_url;  // public URL of POST /v1/webhooks/twilio/status
};

// A gateway with its rate limit, in a channel's failover chain.
struct GatewaySlot {
  std::shared_ptr<gateways::Gateway> gateway;
  double rate_per_second = 50;
  double burst = 50;
};

struct EngineConfig {
  IntakeConfig intake;
  DispatchConfig dispatch;
  std::map<Channel, std::vector<GatewaySlot>> routes;  // failover order per channel
  std::string instance_id;  // lease owner; unique per process
};

class Engine {
 public:
  Engine(store::Database& db, EngineConfig config, const rules::RulesConfig& rules, const rules::TemplateStore& templates,
         const rules::Clock& clock);
  ~Engine();

  // Starts the intake and dispatch threads and the LISTEN connection.
  void start();
  // Stops claiming work, lets the batch in hand finish, puts any message still leased by this
  // instance back in the queue and joins the threads. Sends are bounded by the gateways'
  // timeouts and by half the lease; the caller enforces its overall grace period.
  void stop();
  // Wakes the loops now (e.g. after an HTTP request inserted events).
  void wake();

  // One intake round: claims up to batch_size events and writes their messages. Returns
  // the number of events claimed. Used by the loop and by tests.
  std::size_t intake_once();
  // One dispatch round: leases due messages, sends them, records outcomes. Returns the
  // number of messages leased.
  std::size_t dispatch_once();

  const std::string& instance_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::engine

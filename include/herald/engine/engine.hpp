// The loops that move rows: intake (events -> messages) and dispatch (messages -> gateways).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "herald/engine/config.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/decide.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/db.hpp"

namespace herald::engine {

class Engine {
 public:
  Engine(store::Database& db, EngineConfig config, const rules::RulesConfig& rules, const rules::TemplateStore& templates,
         const rules::Clock& clock);
  ~Engine();

  // Starts the intake, dispatch and outage threads and the LISTEN connection.
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
  // Outage work until none is left: outage.updated events, due outages judged, every pending
  // notice fanned out chunk by chunk. Returns the steps taken. Used by tests; the loop runs
  // one step at a time.
  std::size_t outages_once();

  const std::string& instance_id() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::engine

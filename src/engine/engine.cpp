// The intake and dispatch threads: wake on NOTIFY or a poll timer, work in batches, survive database outages.
#include "herald/engine/engine.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "herald/domain/metrics.hpp"
#include "herald/engine/area_notices.hpp"
#include "herald/engine/dispatcher.hpp"
#include "herald/engine/intake.hpp"
#include "herald/engine/outages.hpp"
#include "herald/store/intake.hpp"
#include "herald/store/listener.hpp"
#include "herald/store/outages.hpp"
#include "herald/store/outbox.hpp"
#include "herald/store/pool.hpp"
#include "thread_name.hpp"

namespace herald::engine {

namespace {

// A wake-up flag with a timed wait: a notification that arrives while the loops are busy is
// not lost, it makes the next wait return at once. One notification wakes one waiter;
// close() wakes them all for good.
class Wakeup {
 public:
  void notify() {
    {
      std::lock_guard lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  }
  void wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return pending_ || closed_; });
    pending_ = false;
  }
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool closed_ = false;
};

// The messages this instance's dispatch workers and gateway senders hold between claim and
// record. A multiset: a message handed back may be claimed again before the hold of the round
// that handed it back lets go.
class InFlight {
 public:
  // Holds a claimed batch's ids for the life of the object.
  class Hold {
   public:
    Hold(InFlight& in_flight, const std::vector<store::ClaimedMessage>& claimed) : in_flight_(in_flight) {
      std::lock_guard lock(in_flight_.mu_);
      for (const auto& c : claimed) {
        ids_.push_back(c.message.id);
        in_flight_.ids_.insert(c.message.id);
      }
    }
    ~Hold() {
      std::lock_guard lock(in_flight_.mu_);
      for (auto id : ids_)
        if (const auto it = in_flight_.ids_.find(id); it != in_flight_.ids_.end()) in_flight_.ids_.erase(it);
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    InFlight& in_flight_;
    std::vector<std::int64_t> ids_;
  };

  std::vector<std::int64_t> ids() const {
    std::lock_guard lock(mu_);
    const std::set<std::int64_t> distinct(ids_.begin(), ids_.end());
    return {distinct.begin(), distinct.end()};
  }

 private:
  mutable std::mutex mu_;
  std::multiset<std::int64_t> ids_;
};

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Time spent per phase of a round, to tell database time from rules or gateway time.
metrics::Histogram& phase_seconds(const char* loop, const char* phase) {
  return metrics::Registry::global().histogram("herald_round_phase_seconds", "Seconds per phase of an intake or dispatch round",
                                               {{"loop", loop}, {"phase", phase}},
                                               {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
}

metrics::Histogram& claim_sizes(const char* loop) {
  return metrics::Registry::global().histogram("herald_claim_batch_size", "Rows claimed per round by loop",
                                               {{"loop", loop}}, {1, 10, 50, 100, 250, 500, 1000, 2000});
}

}  // namespace

struct Engine::Impl {
  store::Database& db;
  EngineConfig config;
  const rules::RulesConfig& rules;
  const rules::TemplateStore& templates;
  const rules::Clock& clock;
  Dispatcher dispatcher;  // shared by the dispatch workers; it locks per gateway, never across a send

  std::atomic<bool> running{false};
  std::atomic<bool> draining{false};
  Wakeup intake_wakeup, dispatch_wakeup, heartbeat_wakeup, outage_wakeup;
  std::vector<std::thread> intake_threads, dispatch_threads, outage_threads;
  std::thread heartbeat_thread;
  InFlight in_flight;
  std::unique_ptr<store::Listener> listener;

  Impl(store::Database& d, EngineConfig c, const rules::RulesConfig& r, const rules::TemplateStore& t,
       const rules::Clock& k)
      : db(d), config(std::move(c)), rules(r), templates(t), clock(k), dispatcher(dispatch_config(config.dispatch, r), config.routes) {}

  static DispatchConfig dispatch_config(DispatchConfig d, const rules::RulesConfig& r) {
    d.conversations = r.conversations;
    return d;
  }

  // One unit of work: the store claims events and loads their recipients, the rules decide
  // here, the store writes what was decided and commits.
  std::size_t intake_once() {
    const auto areas = area_notice_once();
    const auto now = clock.now();
    const auto started = SteadyClock::now();
    auto batch = store::IntakeBatch::open(db, config.intake.batch_size);
    const auto claimed = batch.claimed();
    if (claimed == 0) return areas;
    for (const auto& r : batch.rejected())
      spdlog::error("intake: event {} rejected: {}", r.seq, r.rejection->message);

    const auto rules_started = SteadyClock::now();
    const auto outcomes = decide_events(batch.events(), batch.recipients(), rules, templates, now, config.intake.lanes);
    const auto rules_seconds = seconds_since(rules_started);

    const auto due = batch.commit(outcomes, now);
    count_outcomes(outcomes, batch.rejected().size());
    const auto total = seconds_since(started);
    claim_sizes("intake").observe(static_cast<double>(claimed));
    phase_seconds("intake", "rules").observe(rules_seconds);
    phase_seconds("intake", "database").observe(total - rules_seconds);
    spdlog::debug("intake: {} events -> {} due messages in {:.1f} ms (rules {:.1f} ms)", claimed, due, total * 1e3,
                  rules_seconds * 1e3);
    if (due > 0) dispatch_wakeup.notify();
    return claimed;
  }

  // At most one area notice per intake round, fanned out by the store in set-based chunks;
  // another one waiting is taken by the next round, which this one brings on at once.
  std::size_t area_notice_once() {
    const auto now = clock.now();
    const auto started = SteadyClock::now();
    const auto outcome = store::fan_out_area_notice(db, area_notice_rules(rules, templates, config.intake.lanes, now), now);
    if (!outcome) return 0;
    if (outcome->rejection) {
      spdlog::error("intake: area notice {} rejected: {}", outcome->event_id, outcome->rejection->message);
    } else {
      spdlog::info("intake: area notice {} -> {} messages ({} to send) in {:.1f} ms", outcome->event_id,
                   outcome->messages, outcome->queued, seconds_since(started) * 1e3);
    }
    if (outcome->queued > 0) dispatch_wakeup.notify();
    intake_wakeup.notify();
    return 1;
  }

  // Counted per round, then added to the registry once per label set.
  static void count_outcomes(const std::vector<store::EventOutcome>& outcomes, std::size_t unreadable) {
    std::size_t rejected = unreadable;
    std::map<std::pair<Channel, MessageStatus>, std::size_t> created;
    for (const auto& o : outcomes) {
      if (o.rejection) ++rejected;
      for (const auto& m : o.messages) ++created[{m.channel, m.status}];
    }
    auto& registry = metrics::Registry::global();
    auto events_total = [&](const char* status) -> metrics::Counter& {
      return registry.counter("herald_events_total", "Events processed by outcome", {{"status", status}});
    };
    const auto processed = outcomes.size() + unreadable - rejected;
    if (rejected) events_total("rejected").inc(static_cast<double>(rejected));
    if (processed) events_total("processed").inc(static_cast<double>(processed));
    for (const auto& [key, count] : created) {
      registry.counter("herald_messages_created_total", "Messages created by channel and initial status",
                       {{"channel", std::string(to_string(key.first))}, {"status", std::string(to_string(key.second))}})
          .inc(static_cast<double>(count));
    }
  }

  // One step of outage work; a fan-out chunk that committed messages wakes the dispatchers.
  std::size_t outage_step() {
    store::compact_outage_message_counts(db);
    const auto work = engine::outage_step(db, config.outages, rules, templates, clock.now());
    if (work > 0) dispatch_wakeup.notify();
    return work;
  }

  // The workers share one batch: at most dispatch.batch_size messages are leased by this
  // instance at a time, which bounds what a crash can send twice.
  std::size_t worker_batch() const {
    const auto workers = std::max<std::size_t>(1, config.dispatch.workers);
    return std::max<std::size_t>(1, config.dispatch.batch_size / workers);
  }

  std::size_t dispatch_once() {
    const auto started = SteadyClock::now();
    const auto claimed =
        store::claim_due_messages(db, config.instance_id, worker_batch(), clock.now(), config.dispatch.lease);
    if (claimed.empty()) return 0;
    const auto claim_seconds = seconds_since(started);
    const auto send_started = SteadyClock::now();
    // Runs on each gateway's send thread too: background work like the rest of the round.
    const auto still_leased = [this](const std::vector<std::int64_t>& ids, Lane lane) {
      const store::BackgroundWork background;
      if (draining) {
        store::SendCheck stop;
        stop.stopping = true;
        return stop;
      }
      return store::check_before_send(db, config.instance_id, ids, clock.now(), config.dispatch.lease, lane);
    };
    // The heartbeat keeps their leases until recorded: this round's share when it returns, a
    // share handed to a gateway's sender when that sender has recorded it.
    const auto held = std::make_shared<const InFlight::Hold>(in_flight, claimed);
    // A paced round records its sends as it goes, so a receipt finds its send recorded; a
    // gateway's sender records what it was handed with it too.
    const auto record = [this](const std::vector<store::MessageUpdate>& sent) {
      const store::BackgroundWork background;  // runs on a thread of its own
      store::record_dispatch_results(db, config.instance_id, sent, clock.now());
    };
    const auto updates = dispatcher.handle(claimed, clock.now(), still_leased, started, record, held);
    const auto send_seconds = seconds_since(send_started);
    const auto record_started = SteadyClock::now();
    store::record_dispatch_results(db, config.instance_id, updates, clock.now());
    const auto record_seconds = seconds_since(record_started);
    claim_sizes("dispatch").observe(static_cast<double>(claimed.size()));
    phase_seconds("dispatch", "claim").observe(claim_seconds);
    phase_seconds("dispatch", "send").observe(send_seconds);
    phase_seconds("dispatch", "record").observe(record_seconds);
    spdlog::debug("dispatch: {} messages; claim {:.1f} ms, send {:.1f} ms, record {:.1f} ms", claimed.size(),
                  claim_seconds * 1e3, send_seconds * 1e3, record_seconds * 1e3);
    return claimed.size();
  }

  // While this instance has messages between claim and record, their leases are pushed
  // forward every third of a lease: a provider slower than the lease does not hand the batch
  // to another instance. A frozen or dead instance stops beating and its leases lapse.
  void heartbeat() {
    const auto period = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(200), config.dispatch.lease / 3);
    for (;;) {
      heartbeat_wakeup.wait_for(period);
      if (!running) return;
      try {
        const auto ids = in_flight.ids();
        if (!ids.empty()) store::renew_leases(db, config.instance_id, ids, clock.now(), config.dispatch.lease);
      } catch (const std::exception& e) {
        spdlog::warn("lease heartbeat: {}", e.what());
      }
      if (heartbeat_stop) return;
    }
  }
  std::atomic<bool> heartbeat_stop{false};

  // Runs `round` until it finds less than a full batch, then sleeps until woken or the poll
  // interval passes. Database errors back off and retry: the pool reconnects.
  void loop(const char* name, Wakeup& wakeup, std::chrono::milliseconds poll, std::size_t batch,
            std::size_t (Impl::*round)()) {
    auto backoff = std::chrono::milliseconds(100);
    while (running && !draining) {
      try {
        const auto n = (this->*round)();
        backoff = std::chrono::milliseconds(100);
        if (n >= batch) {
          wakeup.notify();  // a full batch means more work: bring in a sleeping worker too
          continue;
        }
      } catch (const std::exception& e) {
        spdlog::error("{} loop: {}; retrying in {} ms", name, e.what(), backoff.count());
        wakeup.wait_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        continue;
      }
      wakeup.wait_for(poll);
    }
  }
};

Engine::Engine(store::Database& db, EngineConfig config, const rules::RulesConfig& rules,
               const rules::TemplateStore& templates, const rules::Clock& clock)
    : impl_(std::make_unique<Impl>(db, std::move(config), rules, templates, clock)) {}

Engine::~Engine() { stop(); }

void Engine::start() {
  auto& i = *impl_;
  if (i.running.exchange(true)) return;
  i.listener = std::make_unique<store::Listener>(
      i.db.url(), std::vector<std::string>{"herald_events", "herald_messages", "herald_outages"},
      [&i](const std::string& channel) {
        if (channel == "herald_events") {
          i.intake_wakeup.notify();
          i.outage_wakeup.notify();  // outage.updated rows
        } else if (channel == "herald_outages") {
          i.outage_wakeup.notify();
        } else {
          i.dispatch_wakeup.notify();
        }
      },
      [&i] {
        // Catch up on anything that arrived while the listener was away.
        i.intake_wakeup.notify();
        i.dispatch_wakeup.notify();
        i.outage_wakeup.notify();
      });
  i.listener->start();
  // Several workers overlap one's database round trips with another's rules or sends; SKIP
  // LOCKED keeps their claims apart.
  for (std::size_t w = 0; w < i.config.intake.workers; ++w) {
    i.intake_threads.emplace_back([&i] {
      store::enter_background_thread("intake");
      const store::BackgroundWork background;
      i.loop("intake", i.intake_wakeup, i.config.intake.poll_interval, i.config.intake.batch_size, &Impl::intake_once);
    });
  }
  for (std::size_t w = 0; w < i.config.dispatch.workers; ++w) {
    i.dispatch_threads.emplace_back([&i] {
      store::enter_background_thread("dispatch");
      const store::BackgroundWork background;
      i.loop("dispatch", i.dispatch_wakeup, i.config.dispatch.poll_interval, i.worker_batch(), &Impl::dispatch_once);
    });
  }
  // The outage loop runs apart from intake: a fan-out of a million recipients goes chunk by
  // chunk while billing events keep flowing (and the HTTP threads only store the change).
  // Several of them write the parts of one notice at once.
  for (std::size_t w = 0; w < i.config.outages.workers; ++w) {
    i.outage_threads.emplace_back([&i] {
      store::enter_background_thread("outages");
      const store::BackgroundWork background;
      i.loop("outages", i.outage_wakeup, i.config.outages.poll_interval, 1, &Impl::outage_step);
    });
  }
  if (i.config.dispatch.workers > 0) i.heartbeat_thread = std::thread([&i] {
    name_thread("heartbeat");  // at normal priority: the leases of a round in flight must not lapse
    const store::BackgroundWork background;
    i.heartbeat();
  });
}

void Engine::stop() {
  auto& i = *impl_;
  if (!i.running) return;
  i.draining = true;
  i.dispatcher.stop();  // sends waiting for their tokens go back to the queue now
  i.intake_wakeup.close();
  i.dispatch_wakeup.close();
  i.outage_wakeup.close();
  // The batch in hand finishes (sends are bounded by the gateways' timeouts); the app
  // enforces the overall grace period.
  // Each stage is logged as it is waited for: a drain that overruns its grace names its stage.
  for (const auto& [name, threads] : {std::pair{"intake", &i.intake_threads}, std::pair{"dispatch", &i.dispatch_threads},
                                      std::pair{"outages", &i.outage_threads}}) {
    spdlog::info("drain: waiting for the {} threads", name);
    for (auto& t : *threads)
      if (t.joinable()) t.join();
    threads->clear();
  }
  // The gateways' senders hand back what waits for a token and record what they sent.
  spdlog::info("drain: waiting for the gateways' senders");
  i.dispatcher.finish();
  spdlog::info("drain: releasing leases");
  // The heartbeat outlives the batches in hand, then stops.
  i.heartbeat_stop = true;
  i.heartbeat_wakeup.close();
  if (i.heartbeat_thread.joinable()) i.heartbeat_thread.join();
  if (i.listener) i.listener->stop();
  try {
    const auto released = store::release_leases(i.db, i.config.instance_id);
    if (released > 0) spdlog::info("released {} leased messages", released);
  } catch (const std::exception& e) {
    spdlog::warn("could not release leases ({}); they lapse on their own", e.what());
  }
  i.running = false;
}

void Engine::wake() {
  impl_->intake_wakeup.notify();
  impl_->dispatch_wakeup.notify();
  impl_->outage_wakeup.notify();
}

std::size_t Engine::intake_once() { return impl_->intake_once(); }
std::size_t Engine::dispatch_once() { return impl_->dispatch_once(); }
std::size_t Engine::outages_once() {
  std::size_t steps = 0;
  while (const auto work = impl_->outage_step()) steps += work;
  return steps;
}
const std::string& Engine::instance_id() const { return impl_->config.instance_id; }

}  // namespace herald::engine

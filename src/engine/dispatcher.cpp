// Dispatch decisions: rate limits, circuit breakers, failover, retries with full-jitter backoff.
#include "herald/engine/dispatcher.hpp"

#include <algorithm>
#include <condition_variable>
#include <future>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include <spdlog/spdlog.h>

#include "herald/domain/metrics.hpp"
#include "thread_name.hpp"

namespace herald::engine {

namespace {

std::chrono::microseconds max_wait() { return std::chrono::hours(24); }

// Messages handed to a gateway per send_batch call.
constexpr std::size_t kSendChunk = 250;

// Paced sends are checked (lease, consent, lanes above, stopping) a window at a time: the
// messages whose tokens come within this much of the window's first. A round waiting longer
// than this for its first token checks this often too, so a verification code or a shutdown
// does not wait behind the tokens it has reserved.
constexpr std::chrono::milliseconds kPacedWindow{250};
// A window's check runs this long before its first token, so the send is not late by the
// check's round trip.
constexpr std::chrono::milliseconds kCheckLead{50};
// A round sending for longer than this records what it has sent so far.
constexpr std::chrono::seconds kRecordInterval{1};
// How long a round of a higher lane waits for senders to hand their lower lanes back before
// it reserves anyway (a sender in the middle of a slow provider's answer cannot stop at once).
constexpr std::chrono::milliseconds kPreemptWait{500};
// No lane asks a sender to hand anything back.
constexpr int kNoPreemption = 1 << 30;
// A sender's records that fail are tried again this often, this many times.
constexpr int kRecordTries = 5;
constexpr std::chrono::seconds kRecordRetry{1};

// Tokens live on the send clock's timeline; the bucket counts in TimePoint microseconds.
TimePoint bucket_time(SteadyTime t) {
  return TimePoint(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()));
}
SteadyTime steady_time(TimePoint t) {
  return SteadyTime(std::chrono::duration_cast<SteadyTime::duration>(t.time_since_epoch()));
}

// The steady clock, with waits that stop() ends.
class SteadySendClock final : public SendClock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  bool wait_until(SteadyTime until) override {
    std::unique_lock lock(mu_);
    return !cv_.wait_until(lock, until, [&] { return stopped_; });
  }
  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

// Records a round's sends so far on a thread of its own, so that sends coming due meanwhile
// are not held up by the statement. What fails to record goes back to the round's updates
// (recorded with the round); a recording in progress is finished before the object goes.
class ProgressRecorder {
 public:
  using Record = std::function<void(const std::vector<store::MessageUpdate>&)>;
  ProgressRecorder(const Record& record, std::vector<store::MessageUpdate>& updates)
      : record_(record), updates_(updates) {}
  ~ProgressRecorder() { finish(); }
  ProgressRecorder(const ProgressRecorder&) = delete;
  ProgressRecorder& operator=(const ProgressRecorder&) = delete;

  // Hands every update so far over.
  void start() {
    finish();
    batch_ = std::move(updates_);
    updates_.clear();
    done_ = std::async(std::launch::async, [this] { record_(batch_); });
  }

 private:
  void finish() {
    if (!done_.valid()) return;
    try {
      done_.get();
    } catch (const std::exception& e) {
      spdlog::warn("dispatch: could not record sends in progress ({}); recorded with the round", e.what());
      for (auto& u : batch_) updates_.push_back(std::move(u));
    }
    batch_.clear();
  }

  const Record& record_;
  std::vector<store::MessageUpdate>& updates_;
  std::vector<store::MessageUpdate> batch_;
  std::future<void> done_;
};

gateways::OutboundMessage outbound(const Message& m, const DispatchConfig& config) {
  gateways::OutboundMessage o;
  o.id = m.id;
  o.channel = m.channel;
  o.to = m.address;
  o.subject = m.subject;
  o.body = m.body;
  o.html = m.html;
  o.unsubscribe_url = m.unsubscribe_url;
  if (m.channel == Channel::sms) o.status_callback_url = config.status_callback_url;
  if (m.channel == Channel::voice) {
    // Twilio signs these URLs with their query: the message id cannot be changed on the way back.
    o.status_callback_url = config.status_callback_url;
    if (!config.voice_url.empty()) o.voice_url = config.voice_url + "?message=" + std::to_string(m.id);
  }
  o.idempotency_key = "herald-" + std::to_string(m.id);
  return o;
}

store::MessageUpdate base_update(const Message& m) {
  store::MessageUpdate u;
  u.id = m.id;
  u.channel = m.channel;
  u.address = m.address;
  u.status = MessageStatus::sending;
  return u;
}

// A message whose address opted out after it was queued: suppressed, never sent.
store::MessageUpdate opted_out_update(const Message& m) {
  auto u = base_update(m);
  u.status = MessageStatus::suppressed;
  u.suppression_reason = "opted_out";
  return u;
}

std::string error_text(const gateways::SendResult& r) {
  return r.error_code.empty() ? r.detail : r.error_code + ": " + r.detail;
}

rules::AttemptAnswer answer_of(const gateways::SendResult& r) {
  rules::AttemptAnswer a;
  switch (r.outcome) {
    case gateways::SendOutcome::sent: a.kind = rules::AttemptAnswer::accepted; break;
    case gateways::SendOutcome::failed: a.kind = rules::AttemptAnswer::refused; break;
    case gateways::SendOutcome::opted_out: a.kind = rules::AttemptAnswer::opted_out; break;
    case gateways::SendOutcome::retry: a.kind = rules::AttemptAnswer::transient; break;
  }
  a.http_status = r.http_status;
  if (r.retry_after) a.retry_after = std::chrono::duration_cast<std::chrono::microseconds>(*r.retry_after);
  return a;
}

metrics::Counter& dispatched(Channel channel, const std::string& gateway, std::string_view outcome) {
  return metrics::Registry::global().counter("herald_messages_dispatched_total",
                                             "Send outcomes by channel, gateway and outcome",
                                             {{"channel", std::string(to_string(channel))},
                                              {"gateway", gateway},
                                              {"outcome", std::string(outcome)}});
}

metrics::Counter& lease_lost() {
  return metrics::Registry::global().counter("herald_dispatch_lease_lost_total",
                                             "Leased messages not sent because their lease lapsed first", {});
}

metrics::Counter& handed_back() {
  return metrics::Registry::global().counter(
      "herald_dispatch_yielded_total", "Leased messages handed back unsent because a higher lane was due or the instance stopped", {});
}

}  // namespace

SendClock::~SendClock() = default;

// One lane's share of a round for one gateway, handed to the gateway's sender: it owns its
// messages, the round's times and how to check and record them.
struct Dispatcher::Job {
  Channel channel = Channel::sms;
  std::size_t route_index = 0;
  int lane = 0;
  std::vector<store::ClaimedMessage> messages;
  std::vector<Paced> members;  // into `messages`, in the order of their tokens
  TimePoint now;
  SteadyTime started;
  SteadyTime leased_at;
  LeaseCheck still_leased;
  Record record;
  std::shared_ptr<const void> hold;  // let go once the job's updates are recorded
};

// The thread that waits for one gateway's tokens, and what it has been handed.
struct Dispatcher::Sender {
  std::mutex mu;
  std::condition_variable changed;  // a job arrived, started or ended; closing
  std::deque<std::unique_ptr<Job>> jobs;
  std::optional<int> running;  // the lane of the job being sent
  bool closing = false;
  std::thread thread;
  // Jobs of a lane above this one (a larger number) hand back what they have not sent.
  std::atomic<int> preempt_above{kNoPreemption};
  std::deque<std::future<void>> records;  // only the sender's thread touches these

  // Whether a job of a lane below `lane` is queued or being sent.
  bool holds_below(int lane) const {
    if (running && *running > lane) return true;
    return std::any_of(jobs.begin(), jobs.end(), [&](const auto& j) { return j->lane > lane; });
  }
};

Dispatcher::Route::Route(GatewaySlot s, rules::TokenBucket b, rules::CircuitBreaker c)
    : slot(std::move(s)), bucket(std::move(b)), breaker(std::move(c)), sender(std::make_unique<Sender>()) {}
Dispatcher::Route::~Route() = default;

Dispatcher::Dispatcher(DispatchConfig config, std::map<Channel, std::vector<GatewaySlot>> routes,
                       std::shared_ptr<SendClock> clock)
    : config_(std::move(config)), clock_(clock ? std::move(clock) : std::make_shared<SteadySendClock>()) {
  for (auto& [channel, slots] : routes)
    for (auto& slot : slots)
      routes_[channel].push_back(std::make_unique<Route>(slot,
                                                         rules::TokenBucket(slot.rate_per_second, std::max(1.0, slot.burst)),
                                                         rules::CircuitBreaker(config_.breaker_failures, config_.breaker_open)));
}

Dispatcher::~Dispatcher() { finish(); }

void Dispatcher::finish() {
  for (auto& [channel, chain] : routes_)
    for (auto& route : chain) {
      auto& sender = *route->sender;
      {
        std::lock_guard lock(sender.mu);
        if (!sender.thread.joinable()) continue;
        sender.closing = true;
      }
      sender.changed.notify_all();
      sender.thread.join();
      std::lock_guard lock(sender.mu);
      sender.thread = std::thread();
      sender.closing = false;
    }
}

void Dispatcher::hand_over(Route& route, std::unique_ptr<Job> job) {
  auto& sender = *route.sender;
  {
    std::lock_guard lock(sender.mu);
    sender.jobs.push_back(std::move(job));
    if (!sender.thread.joinable()) sender.thread = std::thread([this, &route] { run_sender(route); });
  }
  sender.changed.notify_all();
}

void Dispatcher::run_sender(Route& route) {
  auto& sender = *route.sender;
  name_thread("send-" + route.slot.gateway->name());
  // Records a job's updates off this thread (its next tokens may be due meanwhile), then lets
  // go of the job's hold on the leases. A record that fails is tried again: what it holds was
  // sent, and a lapsed lease would send it again.
  const auto record_then_release = [](std::unique_ptr<Job> job, std::vector<store::MessageUpdate> updates) {
    for (int attempt = 1; !updates.empty() && attempt <= kRecordTries; ++attempt) {
      try {
        job->record(updates);
        break;
      } catch (const std::exception& e) {
        spdlog::error("dispatch: could not record {} paced sends (try {} of {}): {}", updates.size(), attempt,
                      kRecordTries, e.what());
        if (attempt < kRecordTries) std::this_thread::sleep_for(kRecordRetry);
      }
    }
  };
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(sender.mu);
      sender.changed.wait(lock, [&] { return !sender.jobs.empty() || sender.closing; });
      if (sender.jobs.empty()) break;
      job = std::move(sender.jobs.front());
      sender.jobs.pop_front();
      sender.running = job->lane;
    }
    sender.changed.notify_all();
    const std::function<bool()> yield = [&sender, lane = job->lane] { return sender.preempt_above.load() < lane; };
    const Round round{job->now, job->started, job->leased_at, &job->still_leased, &job->record, &yield, false};
    std::vector<store::MessageUpdate> updates;
    try {
      send_group(job->channel, job->route_index, job->members, round, updates);
    } catch (const std::exception& e) {
      // Unsent messages stay leased until their lease lapses and are claimed again then.
      spdlog::error("dispatch: paced sends on {} stopped: {}", route.slot.gateway->name(), e.what());
    }
    {
      std::lock_guard lock(sender.mu);
      sender.running.reset();
    }
    sender.changed.notify_all();
    while (!sender.records.empty() &&
           sender.records.front().wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      sender.records.pop_front();
    sender.records.push_back(std::async(std::launch::async, record_then_release, std::move(job), std::move(updates)));
  }
  sender.records.clear();  // each waits for its record
}

void Dispatcher::preempt_lower_lanes(const std::vector<store::ClaimedMessage>& claimed) {
  std::map<Channel, int> top;  // the highest lane (smallest number) per channel
  for (const auto& c : claimed) {
    if (!c.unreadable.empty() || c.opted_out || c.expired) continue;
    const auto lane = static_cast<int>(c.lane);
    auto [it, added] = top.emplace(c.message.channel, lane);
    if (!added) it->second = std::min(it->second, lane);
  }
  const auto until = std::chrono::steady_clock::now() + kPreemptWait;
  for (const auto& [channel, lane] : top) {
    const auto* routes = chain(channel);
    if (!routes) continue;
    for (const auto& route : *routes) {
      auto& sender = *route->sender;
      std::unique_lock lock(sender.mu);
      if (!sender.holds_below(lane)) continue;
      sender.preempt_above = std::min(sender.preempt_above.load(), lane);
      sender.changed.wait_until(lock, until, [&] { return !sender.holds_below(lane); });
    }
  }
}

void Dispatcher::end_preemption() {
  for (auto& [channel, chain] : routes_)
    for (auto& route : chain) route->sender->preempt_above = kNoPreemption;
}

double Dispatcher::random01() {
  if (random01_) return random01_();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

const Dispatcher::Chain* Dispatcher::chain(Channel channel) const {
  const auto it = routes_.find(channel);
  return it == routes_.end() || it->second.empty() ? nullptr : &it->second;
}

void Dispatcher::stop() { clock_->stop(); }

Dispatcher::Pick Dispatcher::pick(Channel channel, const std::string& preferred, TimePoint now, SteadyTime at,
                                  SteadyTime latest, std::chrono::microseconds& wait) {
  const auto* routes = chain(channel);
  if (!routes) return {};
  std::size_t start = 0;
  for (std::size_t i = 0; i < routes->size(); ++i)
    if ((*routes)[i]->slot.gateway->name() == preferred) start = i;
  wait = max_wait();
  Route* limited = nullptr;  // the gateway whose token would come first, when a rate limit stopped them all
  for (std::size_t k = 0; k < routes->size(); ++k) {
    const auto i = (start + k) % routes->size();
    auto& route = *(*routes)[i];
    std::lock_guard lock(route.mu);
    if (!route.breaker.allow(now)) {
      if (config_.breaker_open < wait) {
        wait = config_.breaker_open;
        limited = nullptr;
      }
      continue;
    }
    const auto due = route.bucket.reserve(bucket_time(at), bucket_time(latest));
    if (!due) {
      const auto until = std::max(route.deferred_until, at + route.bucket.wait_time(bucket_time(at)));
      const auto w = std::chrono::duration_cast<std::chrono::microseconds>(until - at);
      if (w < wait) {
        wait = w;
        limited = &route;
      }
      continue;
    }
    return {&route, i, steady_time(*due)};
  }
  if (limited && limited->slot.rate_per_second > 0) {
    // Deferred messages come due one token apart, a quarter lease before the token each would
    // take, instead of all when the tokens reserved so far have gone: a backlog behind a rate
    // limit is then claimed about once more each, not again by every claim until its turn,
    // and the workers' claims reach other gateways' messages behind it.
    std::lock_guard lock(limited->mu);
    const auto token = std::max(limited->deferred_until, at + limited->bucket.wait_time(bucket_time(at)));
    limited->deferred_until =
        token + std::chrono::duration_cast<SteadyTime::duration>(std::chrono::duration<double>(1.0 / limited->slot.rate_per_second));
    wait = std::chrono::duration_cast<std::chrono::microseconds>(token - at) -
           std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::milliseconds(config_.lease) / 4);
  }
  return {};
}

store::MessageUpdate Dispatcher::outcome(const store::ClaimedMessage& c, const gateways::SendResult& r,
                                         std::size_t route_index, TimePoint now) {
  const auto& m = c.message;
  const auto& routes = *chain(m.channel);
  auto& route = *routes[route_index];
  const auto& gateway = route.slot.gateway->name();
  auto u = base_update(m);
  u.attempted = true;
  u.attempt = m.attempts + 1;
  u.gateway = gateway;
  u.started_at = now;
  u.duration_ms = static_cast<int>(r.duration_ms);
  u.http_status = r.http_status;
  u.error_code = r.error_code;
  u.detail = r.detail;
  u.provider_id = r.provider_id;

  const rules::RetryPolicy policy{config_.max_attempts, config_.backoff_base, config_.backoff_cap};
  const auto verdict = rules::judge_attempt(answer_of(r), u.attempt, route_index, routes.size(), policy, random01());
  if (verdict.gateway != rules::AttemptVerdict::unknown) {
    std::lock_guard lock(route.mu);
    if (verdict.gateway == rules::AttemptVerdict::healthy) route.breaker.record_success();
    else route.breaker.record_failure(now);
  }
  switch (verdict.next) {
    case rules::AttemptVerdict::sent:
      u.status = MessageStatus::sent;
      u.outcome = store::AttemptOutcome::sent;
      if (m.channel == Channel::sms) {
        if (auto it = config_.conversations.find(m.type); it != config_.conversations.end())
          u.conversation = {{"expected", rules::expected_json(it->second.replies)},
                            {"ttl_seconds", it->second.ttl.count()}};
      }
      dispatched(m.channel, gateway, "sent").inc();
      break;
    case rules::AttemptVerdict::failed:
      u.provider_opt_out = r.outcome == gateways::SendOutcome::opted_out;
      u.status = MessageStatus::failed;
      u.outcome = store::AttemptOutcome::failed;
      u.last_error = error_text(r);
      dispatched(m.channel, gateway, "failed").inc();
      break;
    case rules::AttemptVerdict::dead:
      u.status = MessageStatus::failed;
      u.outcome = store::AttemptOutcome::failed;
      u.last_error = "gave up after " + std::to_string(u.attempt) + " attempts: " + error_text(r);
      dispatched(m.channel, gateway, "dead").inc();
      break;
    case rules::AttemptVerdict::failover:
      u.outcome = store::AttemptOutcome::failover;
      u.last_error = error_text(r);
      u.next_gateway = routes[verdict.next_route]->slot.gateway->name();
      u.due_at = now;
      dispatched(m.channel, gateway, "failover").inc();
      break;
    case rules::AttemptVerdict::retry:
      u.outcome = store::AttemptOutcome::retry;
      u.last_error = error_text(r);
      u.due_at = now + verdict.delay;
      dispatched(m.channel, gateway, "retry").inc();
      break;
  }
  return u;
}

void Dispatcher::send_group(Channel channel, std::size_t route_index, const std::vector<Paced>& members,
                            const Round& round, std::vector<store::MessageUpdate>& updates) {
  auto& route = *(*chain(channel))[route_index];
  // A chunk no larger than what the gateway sends at once: every send of a chunk starts right
  // after the lease check before it, even if this process was frozen in between.
  const auto concurrency = route.slot.gateway->max_concurrent();
  const auto chunk = concurrency > 0 ? std::min(kSendChunk, concurrency) : kSendChunk;
  // Once half the lease is spent the rest waits for the next round, so that the batch in
  // hand never holds its leases for long.
  const auto deadline = round.leased_at + config_.lease / 2;
  auto checked_at = round.leased_at;
  // From when this share starts sending: a sender's job may start long after its round, and a
  // short one is then recorded once, off the send thread, instead of waited for at its end.
  auto recorded_at = clock_->now();
  // The engine's time of a moment on the send clock: sends, outcomes and retries are dated by it.
  const auto engine_time = [&](SteadyTime t) {
    return round.now + std::chrono::duration_cast<std::chrono::microseconds>(t - round.started);
  };
  // Unsent messages go back to the queue, due now, and give back the tokens they reserved.
  const auto hand_back = [&](const std::vector<Paced>& ms, std::size_t from) {
    if (from >= ms.size()) return;
    for (std::size_t i = from; i < ms.size(); ++i) {
      auto u = base_update(ms[i].message->message);
      u.gateway = ms[i].message->message.gateway;
      u.due_at = round.now;
      updates.push_back(std::move(u));
    }
    std::lock_guard lock(route.mu);
    route.bucket.give_back(bucket_time(clock_->now()), static_cast<double>(ms.size() - from));
  };
  const auto check = [&](const std::vector<Paced>& ms, std::size_t from, std::size_t to) {
    std::vector<std::int64_t> ids;
    ids.reserve(to - from);
    for (std::size_t i = from; i < to; ++i) ids.push_back(ms[i].message->message.id);
    auto result = (*round.still_leased)(ids, ms[from].message->lane);
    checked_at = clock_->now();
    return result;
  };
  // Hands what has been sent so far to the round's record, at most once a second.
  ProgressRecorder recorder(*round.record, updates);
  const auto record_progress = [&] {
    if (!*round.record || updates.empty() || clock_->now() - recorded_at < kRecordInterval) return;
    recorder.start();
    recorded_at = clock_->now();
  };
  // The paced window after the one being sent: the tokens of the quarter second from `from`.
  const auto paced_window_end = [&](std::size_t from) {
    auto to = from + 1;
    while (to < members.size() && members[to].due < members[from].due + kPacedWindow) ++to;
    return to;
  };
  // Windows of tokens follow each other closely (the next one's first token comes 1/rate after
  // this one's last): the next window's check starts early, on a thread of its own, while this
  // one's last messages go out, so that its round trip does not hold up sends coming due.
  std::future<store::SendCheck> ahead;
  std::size_t ahead_end = 0;

  // A higher lane wants this gateway (a sender's round only): the rest goes back to the queue.
  const auto yielding = [&] { return round.yield && (*round.yield)(); };

  for (std::size_t begin = 0; begin < members.size();) {
    if (yielding()) {
      handed_back().inc(static_cast<double>(members.size() - begin));
      return hand_back(members, begin);
    }
    auto at = clock_->now();
    if (members[begin].due > at) {
      // Paced: wait for the window's first token, checking every window meanwhile.
      while (members[begin].due - at > kPacedWindow + kCheckLead) {
        if (!clock_->wait_until(std::min(members[begin].due - kCheckLead, at + kPacedWindow))) {
          handed_back().inc(static_cast<double>(members.size() - begin));
          return hand_back(members, begin);
        }
        at = clock_->now();
        if (yielding()) {
          handed_back().inc(static_cast<double>(members.size() - begin));
          return hand_back(members, begin);
        }
        if (*round.still_leased && at - checked_at >= kPacedWindow) {
          const auto probe = check(members, begin, begin + 1);
          if ((probe.higher_lane_due && round.yields_to_lanes_due) || probe.stopping) {
            handed_back().inc(static_cast<double>(members.size() - begin));
            return hand_back(members, begin);
          }
        }
      }
      if (members[begin].due - at > kCheckLead && !clock_->wait_until(members[begin].due - kCheckLead)) {
        handed_back().inc(static_cast<double>(members.size() - begin));
        return hand_back(members, begin);
      }
      at = clock_->now();
    }
    if (at >= deadline) return hand_back(members, begin);
    // The window: a chunk of what is due now, or the tokens of the next quarter second.
    std::size_t end = begin + 1;
    if (ahead.valid()) {
      end = ahead_end;
    } else if (members[begin].due <= at) {
      while (end < members.size() && end - begin < chunk && members[end].due <= at) ++end;
    } else {
      end = paced_window_end(begin);
    }
    std::vector<Paced> window(members.begin() + static_cast<std::ptrdiff_t>(begin),
                              members.begin() + static_cast<std::ptrdiff_t>(end));
    // The claim itself checked the first window, unless it is already a while ago or the
    // window waited for its tokens.
    const bool on_claims_word =
        begin == 0 && members[begin].due <= round.started && at - round.leased_at < config_.lease / 4;
    if (*round.still_leased && (!on_claims_word || ahead.valid())) {
      auto result = ahead.valid() ? ahead.get() : check(members, begin, end);
      checked_at = clock_->now();
      if ((result.higher_lane_due && round.yields_to_lanes_due) || result.stopping) {
        handed_back().inc(static_cast<double>(members.size() - begin));
        return hand_back(members, begin);
      }
      const std::set<std::int64_t> kept(result.leased.begin(), result.leased.end());
      const std::set<std::int64_t> opted_out(result.opted_out.begin(), result.opted_out.end());
      const auto before = window.size();
      // Opted out since the claim: still ours, ended here so that the record removes them.
      std::erase_if(window, [&](const Paced& p) {
        if (!opted_out.count(p.message->message.id)) return false;
        updates.push_back(opted_out_update(p.message->message));
        return true;
      });
      const auto lost = std::erase_if(window, [&](const Paced& p) { return !kept.count(p.message->message.id); });
      if (lost > 0) {
        lease_lost().inc(static_cast<double>(lost));
        spdlog::warn("dispatch: {} messages lost their lease before sending; left to their new holder", lost);
      }
      if (window.size() < before) {
        std::lock_guard lock(route.mu);
        route.bucket.give_back(bucket_time(clock_->now()), static_cast<double>(before - window.size()));
      }
    }
    // Each message of the window when its token comes; those due by then go together.
    for (std::size_t i = 0; i < window.size();) {
      if (*round.still_leased && !ahead.valid() && end < members.size() && members[end].due > window[i].due &&
          members[end].due - kCheckLead <= window[i].due) {
        ahead_end = paced_window_end(end);
        std::vector<std::int64_t> ids;
        for (std::size_t k = end; k < ahead_end; ++k) ids.push_back(members[k].message->message.id);
        ahead = std::async(std::launch::async, [&still_leased = *round.still_leased, ids = std::move(ids),
                                                lane = members[end].message->lane] { return still_leased(ids, lane); });
      }
      if (!clock_->wait_until(window[i].due) || yielding()) {
        handed_back().inc(static_cast<double>(window.size() - i + members.size() - end));
        hand_back(window, i);
        return hand_back(members, end);
      }
      const auto sent_at = clock_->now();
      if (sent_at >= deadline) {
        hand_back(window, i);
        return hand_back(members, end);
      }
      std::size_t j = i + 1;
      while (j < window.size() && j - i < chunk && window[j].due <= sent_at) ++j;
      std::vector<gateways::OutboundMessage> batch;
      batch.reserve(j - i);
      for (std::size_t k = i; k < j; ++k) batch.push_back(outbound(window[k].message->message, config_));
      const auto results = route.slot.gateway->send_batch(batch);
      for (std::size_t k = i; k < j; ++k) {
        gateways::SendResult r;
        if (k - i < results.size()) {
          r = results[k - i];
        } else {
          r.outcome = gateways::SendOutcome::retry;
          r.detail = "gateway returned no result";
        }
        updates.push_back(outcome(*window[k].message, r, route_index, engine_time(sent_at)));
      }
      i = j;
      record_progress();
    }
    begin = end;
  }
}

std::vector<store::MessageUpdate> Dispatcher::handle(const std::vector<store::ClaimedMessage>& claimed, TimePoint now,
                                                     const LeaseCheck& still_leased,
                                                     std::optional<SteadyTime> leased_at, const Record& record,
                                                     std::shared_ptr<const void> hold) {
  std::vector<store::MessageUpdate> updates;
  updates.reserve(claimed.size());
  // Paced shares go to their gateway's sender only when someone records what it sends.
  const bool hand_paced_over = static_cast<bool>(record);
  std::unique_lock reserving(reserving_);
  if (hand_paced_over) preempt_lower_lanes(claimed);
  const auto started = clock_->now();
  const Round round{now, started, leased_at.value_or(started), &still_leased, &record, nullptr, true};
  // Tokens are reserved only as far as this round may send: until half the lease is spent
  // (a send due at that moment would be handed back). A sender sends one job after another, a
  // job reserved at the edge of that time and a sender a few milliseconds late would hand its
  // last messages back: a share for a sender keeps a window's margin.
  const auto margin = hand_paced_over ? std::chrono::duration_cast<std::chrono::microseconds>(kPacedWindow)
                                      : std::chrono::microseconds(1000);
  const auto latest = round.leased_at + config_.lease / 2 - margin;
  // Messages grouped by (channel, route index, lane) so each gateway gets one concurrent batch
  // (one per lane, so that a sender can hand a lower lane back without a higher one).
  std::map<std::tuple<Channel, std::size_t, int>, std::vector<Paced>> groups;

  for (const auto& c : claimed) {
    const auto& m = c.message;
    if (!c.unreadable.empty()) {
      auto u = base_update(m);
      u.status = MessageStatus::failed;
      u.last_error = "message row cannot be read: " + c.unreadable;
      updates.push_back(std::move(u));
      continue;
    }
    if (c.opted_out) {
      updates.push_back(opted_out_update(m));
      continue;
    }
    if (c.expired) {
      auto u = base_update(m);
      u.status = MessageStatus::suppressed;
      u.suppression_reason = "expired";
      updates.push_back(std::move(u));
      continue;
    }
    std::chrono::microseconds wait{};
    const auto p = pick(m.channel, m.gateway, now, started, latest, wait);
    if (!p.route) {
      auto u = base_update(m);
      if (!chain(m.channel)) {
        u.status = MessageStatus::failed;
        u.last_error = "no gateway configured for channel " + std::string(to_string(m.channel));
      } else {
        // Rate limit or open circuit: look again later without counting an attempt.
        u.due_at = now + std::max(wait, std::chrono::microseconds(1000));
        u.gateway = m.gateway;
      }
      updates.push_back(std::move(u));
      continue;
    }
    groups[{m.channel, p.index, static_cast<int>(c.lane)}].push_back({&c, p.due});
  }

  // A share that would wait for its tokens goes to its gateway's sender, which owns the wait;
  // handed over before the next round reserves, so each sender gets its jobs in token order.
  // This round's tokens are taken: the lower lanes' shares it hands over need not yield.
  if (hand_paced_over) {
    end_preemption();
    for (auto it = groups.begin(); it != groups.end();) {
      const auto& [key, members] = *it;
      if (members.back().due <= started) {
        ++it;
        continue;
      }
      auto job = std::make_unique<Job>();
      job->channel = std::get<0>(key);
      job->route_index = std::get<1>(key);
      job->lane = std::get<2>(key);
      job->messages.reserve(members.size());
      for (const auto& p : members) job->messages.push_back(*p.message);
      for (std::size_t i = 0; i < members.size(); ++i) job->members.push_back({&job->messages[i], members[i].due});
      job->now = now;
      job->started = started;
      job->leased_at = round.leased_at;
      job->still_leased = still_leased;
      job->record = record;
      job->hold = hold;
      auto& route = *(*chain(job->channel))[job->route_index];
      hand_over(route, std::move(job));
      it = groups.erase(it);
    }
  }
  reserving.unlock();

  // Each gateway's group on its own thread (the first on this one): a provider stuck on slow
  // answers does not delay what the others could send now.
  std::vector<std::vector<store::MessageUpdate>> group_updates(groups.size());
  std::vector<std::future<void>> others;
  std::size_t g = 0;
  for (const auto& group : groups) {
    auto& out = group_updates[g++];
    if (g == 1) continue;
    others.push_back(std::async(std::launch::async, [this, &group, &out, &round] {
      send_group(std::get<0>(group.first), std::get<1>(group.first), group.second, round, out);
    }));
  }
  if (!groups.empty()) {
    const auto& group = *groups.begin();
    send_group(std::get<0>(group.first), std::get<1>(group.first), group.second, round, group_updates[0]);
  }
  for (auto& f : others) f.get();
  for (auto& part : group_updates)
    for (auto& u : part) updates.push_back(std::move(u));
  return updates;
}

}  // namespace herald::engine

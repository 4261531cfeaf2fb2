// Dispatcher: gateway choice, retries, failover, breakers and rate limits, with a scripted gateway at the network edge.
#include "herald/engine/dispatcher.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

namespace herald::engine {
namespace {

using namespace std::chrono_literals;

// Steady time that moves only when the dispatcher waits: a wait jumps to its end. With
// `stop_at` set, a wait reaching past that moment ends there instead, as if the instance
// had been told to stop then.
class VirtualSendClock : public SendClock {
 public:
  SteadyTime now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  bool wait_until(SteadyTime until) override {
    // Lets other threads run a moment first, as a real wait would (`real_pause`, default none).
    if (real_pause.count() > 0) std::this_thread::sleep_for(real_pause);
    std::unique_lock lock(mu_);
    // While time is held, a wait into the future waits for it to be let go.
    held_.wait(lock, [&] { return !holding_ || stopped_ || until <= now_; });
    if (stopped_) return false;
    if (stop_at && until >= *stop_at) {
      now_ = std::max(now_, *stop_at);
      stopped_ = true;
      return false;
    }
    now_ = std::max(now_, until);
    return true;
  }
  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    held_.notify_all();
  }
  // Time stands still for every thread until let go: a wait that would move it waits instead.
  void hold() {
    std::lock_guard lock(mu_);
    holding_ = true;
  }
  void let_go() {
    {
      std::lock_guard lock(mu_);
      holding_ = false;
    }
    held_.notify_all();
  }
  std::optional<SteadyTime> stop_at;
  std::chrono::milliseconds real_pause{0};
  const SteadyTime start = SteadyTime(std::chrono::hours(1000));

 private:
  mutable std::mutex mu_;
  std::condition_variable held_;
  SteadyTime now_ = start;
  bool stopped_ = false;
  bool holding_ = false;
};

// A gateway at the network edge whose answers the test scripts; it records what it was sent.
class ScriptedGateway : public gateways::Gateway {
 public:
  explicit ScriptedGateway(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  Channel channel() const override { return Channel::sms; }
  std::vector<gateways::SendResult> send_batch(const std::vector<gateways::OutboundMessage>& batch) override {
    std::vector<gateways::SendResult> out;
    calls.push_back(batch.size());
    if (clock) call_times.push_back(clock->now() - clock->start);
    for (const auto& m : batch) {
      sent.push_back(m);
      if (script.empty()) {
        out.push_back({gateways::SendOutcome::sent, "P-" + std::to_string(m.id), 201, "", "", std::nullopt, 1});
      } else {
        out.push_back(script.front());
        script.pop_front();
      }
    }
    return out;
  }
  std::size_t max_concurrent() const override { return concurrency; }
  std::deque<gateways::SendResult> script;
  std::vector<gateways::OutboundMessage> sent;
  std::vector<std::size_t> calls;  // messages per send_batch call
  std::vector<SteadyTime::duration> call_times;  // when each call came, on `clock`
  const VirtualSendClock* clock = nullptr;
  std::size_t concurrency = 0;

 private:
  std::string name_;
};

gateways::SendResult answer(gateways::SendOutcome outcome, int http_status, std::string code = "",
                            std::optional<std::chrono::seconds> retry_after = std::nullopt) {
  return {outcome, "", http_status, std::move(code), "scripted", retry_after, 1};
}

store::ClaimedMessage claimed(std::int64_t id, int attempts = 0, std::string gateway = "") {
  store::ClaimedMessage c;
  c.message.id = id;
  c.message.channel = Channel::sms;
  c.message.address = "+12175550101";
  c.message.body = "hello";
  c.message.attempts = attempts;
  c.message.gateway = std::move(gateway);
  return c;
}

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

struct DispatcherTest : ::testing::Test {
  std::shared_ptr<VirtualSendClock> clock = std::make_shared<VirtualSendClock>();
  std::shared_ptr<ScriptedGateway> primary = std::make_shared<ScriptedGateway>("primary");
  std::shared_ptr<ScriptedGateway> backup = std::make_shared<ScriptedGateway>("backup");
  DispatchConfig config;

  void SetUp() override {
    primary->clock = clock.get();
    backup->clock = clock.get();
  }

  std::unique_ptr<Dispatcher> make(bool with_backup, double rate = 1000, double burst = 1000) {
    config.max_attempts = 3;
    config.backoff_base = 1000ms;
    config.backoff_cap = 60000ms;
    config.breaker_failures = 2;
    config.breaker_open = 30s;
    config.status_callback_url = "https://herald.example/v1/webhooks/twilio/status";
    std::map<Channel, std::vector<GatewaySlot>> routes;
    routes[Channel::sms].push_back({primary, rate, burst});
    if (with_backup) routes[Channel::sms].push_back({backup, rate, burst});
    auto d = std::make_unique<Dispatcher>(config, routes, clock);
    d->set_random([] { return 0.5; });
    return d;
  }
};

std::vector<std::int64_t> ids_sent(const ScriptedGateway& g) {
  std::vector<std::int64_t> out;
  for (const auto& m : g.sent) out.push_back(m.id);
  return out;
}

TEST_F(DispatcherTest, SentMessageRecordsProviderIdAndOneAttempt) {
  auto d = make(false);
  const auto updates = d->handle({claimed(1)}, kNow);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].status, MessageStatus::sent);
  EXPECT_EQ(updates[0].provider_id, "P-1");
  EXPECT_TRUE(updates[0].attempted);
  EXPECT_EQ(updates[0].attempt, 1);
  EXPECT_EQ(updates[0].gateway, "primary");
  ASSERT_EQ(primary->sent.size(), 1u);
  EXPECT_EQ(primary->sent[0].status_callback_url, "https://herald.example/v1/webhooks/twilio/status");
  EXPECT_EQ(primary->sent[0].idempotency_key, "herald-1");
}

TEST_F(DispatcherTest, RateLimitedAnswerWaitsAtLeastRetryAfterOnTheSameGateway) {
  auto d = make(true);
  primary->script.push_back(answer(gateways::SendOutcome::retry, 429, "20429", 7s));
  const auto u = d->handle({claimed(1)}, kNow).at(0);
  EXPECT_EQ(u.status, MessageStatus::sending);
  EXPECT_EQ(u.outcome, store::AttemptOutcome::retry);
  EXPECT_EQ(u.gateway, "primary");
  ASSERT_TRUE(u.due_at);
  EXPECT_GE(*u.due_at - kNow, 7s);
  EXPECT_TRUE(backup->sent.empty());
}

TEST_F(DispatcherTest, RetryWithoutRetryAfterUsesFullJitterBackoff) {
  auto d = make(false);
  primary->script.push_back(answer(gateways::SendOutcome::retry, 503));
  const auto u = d->handle({claimed(1, 1)}, kNow).at(0);  // second attempt
  ASSERT_TRUE(u.due_at);
  // random 0.5 * min(cap, base * 2^attempt) = 0.5 * 4 s
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*u.due_at - kNow), 2000ms);
  EXPECT_EQ(u.attempt, 2);
}

TEST_F(DispatcherTest, ServerErrorFailsOverToTheNextGatewayAtOnce) {
  auto d = make(true);
  primary->script.push_back(answer(gateways::SendOutcome::retry, 500));
  const auto u = d->handle({claimed(1)}, kNow).at(0);
  EXPECT_EQ(u.outcome, store::AttemptOutcome::failover);
  EXPECT_EQ(u.gateway, "primary");  // where the failed attempt was made
  EXPECT_EQ(u.next_gateway, "backup");
  ASSERT_TRUE(u.due_at);
  EXPECT_EQ(*u.due_at, kNow);
  // The next round starts on the backup gateway.
  const auto again = d->handle({claimed(1, 1, "backup")}, kNow).at(0);
  EXPECT_EQ(again.status, MessageStatus::sent);
  EXPECT_EQ(again.gateway, "backup");
}

TEST_F(DispatcherTest, MessageIsDeadAfterMaxAttempts) {
  auto d = make(false);
  primary->script.push_back(answer(gateways::SendOutcome::retry, 503));
  const auto u = d->handle({claimed(1, 2)}, kNow).at(0);  // third and last attempt
  EXPECT_EQ(u.status, MessageStatus::failed);
  EXPECT_NE(u.last_error.find("gave up after 3 attempts"), std::string::npos);
}

TEST_F(DispatcherTest, PermanentErrorIsNotRetried) {
  auto d = make(true);
  primary->script.push_back(answer(gateways::SendOutcome::failed, 400, "21211"));
  const auto u = d->handle({claimed(1)}, kNow).at(0);
  EXPECT_EQ(u.status, MessageStatus::failed);
  EXPECT_FALSE(u.due_at);
  EXPECT_FALSE(u.provider_opt_out);
  EXPECT_TRUE(backup->sent.empty());
}

TEST_F(DispatcherTest, ProviderOptOutFailsAndRecordsTheOptOut) {
  auto d = make(false);
  primary->script.push_back(answer(gateways::SendOutcome::opted_out, 400, "21610"));
  const auto u = d->handle({claimed(1)}, kNow).at(0);
  EXPECT_EQ(u.status, MessageStatus::failed);
  EXPECT_TRUE(u.provider_opt_out);
  EXPECT_EQ(u.address, "+12175550101");
}

TEST_F(DispatcherTest, OpenCircuitSendsTrafficToTheBackup) {
  auto d = make(true);
  primary->script.push_back(answer(gateways::SendOutcome::retry, 500));
  primary->script.push_back(answer(gateways::SendOutcome::retry, 500));
  d->handle({claimed(1), claimed(2)}, kNow);  // two failures open the primary's breaker
  const auto u = d->handle({claimed(3)}, kNow + 1s).at(0);
  EXPECT_EQ(u.gateway, "backup");
  EXPECT_EQ(u.status, MessageStatus::sent);
  EXPECT_EQ(primary->sent.size(), 2u);
}

TEST_F(DispatcherTest, OpenCircuitWithoutBackupDefersWithoutAnAttempt) {
  auto d = make(false);
  primary->script.push_back(answer(gateways::SendOutcome::retry, 500));
  primary->script.push_back(answer(gateways::SendOutcome::retry, 500));
  d->handle({claimed(1), claimed(2)}, kNow);
  const auto u = d->handle({claimed(3)}, kNow + 1s).at(0);
  EXPECT_FALSE(u.attempted);
  EXPECT_EQ(u.status, MessageStatus::sending);
  ASSERT_TRUE(u.due_at);
  EXPECT_GT(*u.due_at, kNow + 1s);
  EXPECT_EQ(primary->sent.size(), 2u);
}

// Pacing: a rate-limited gateway's messages take its next tokens, even ones still to come, and
// each goes out when its token comes, not in one burst at the round's start.

std::vector<store::ClaimedMessage> batch_of(std::int64_t count) {
  std::vector<store::ClaimedMessage> batch;
  for (std::int64_t id = 1; id <= count; ++id) batch.push_back(claimed(id));
  return batch;
}

TEST_F(DispatcherTest, ARateLimitedGatewaysMessagesGoOutEachWhenItsTokenComes) {
  auto d = make(false, /*rate=*/10, /*burst=*/1);
  const auto updates = d->handle(batch_of(5), kNow);
  EXPECT_EQ(primary->calls, (std::vector<std::size_t>{1, 1, 1, 1, 1}));
  EXPECT_EQ(primary->call_times, (std::vector<SteadyTime::duration>{0ms, 100ms, 200ms, 300ms, 400ms}));
  ASSERT_EQ(updates.size(), 5u);
  for (const auto& u : updates) {
    EXPECT_EQ(u.status, MessageStatus::sent) << u.id;
    EXPECT_EQ(u.started_at, kNow + (u.id - 1) * 100ms) << u.id;  // dated when sent, not at the round's start
  }
}

TEST_F(DispatcherTest, PacedSendsAreCheckedAWindowAtATimeJustBeforeItsFirstToken) {
  auto d = make(false, /*rate=*/10, /*burst=*/1);
  std::vector<std::vector<std::int64_t>> asked;
  std::vector<SteadyTime::duration> asked_at;
  const auto still_leased = [&](const std::vector<std::int64_t>& ids, Lane) {
    asked.push_back(ids);
    asked_at.push_back(clock->now() - clock->start);
    store::SendCheck c;
    c.leased = ids;
    return c;
  };
  d->handle(batch_of(5), kNow, still_leased);
  // Message 1 goes on the claim's word; 2-4 (tokens at 100-300 ms) are checked 50 ms before
  // the first of them, 5 (400 ms) before its own.
  EXPECT_EQ(asked, (std::vector<std::vector<std::int64_t>>{{2, 3, 4}, {5}}));
  EXPECT_EQ(asked_at, (std::vector<SteadyTime::duration>{50ms, 350ms}));
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
}

// Windows that follow closely (100/s: the next window's first token 10 ms after this one's
// last) are checked ahead, while the window before still sends: every message still goes out
// at its token's time.
TEST_F(DispatcherTest, TheNextWindowIsCheckedWhileTheOneBeforeStillSends) {
  auto d = make(false, /*rate=*/100, /*burst=*/1);
  std::mutex mu;
  std::vector<std::vector<std::int64_t>> asked;
  const auto still_leased = [&](const std::vector<std::int64_t>& ids, Lane) {
    std::lock_guard lock(mu);
    asked.push_back(ids);
    store::SendCheck c;
    c.leased = ids;
    return c;
  };
  const auto updates = d->handle(batch_of(60), kNow, still_leased);  // tokens 0 to 590 ms
  const auto ids = [](std::int64_t from, std::int64_t to) {
    std::vector<std::int64_t> out;
    for (auto id = from; id <= to; ++id) out.push_back(id);
    return out;
  };
  // 1 on the claim's word; then a quarter second of tokens per check: 10-250, 260-500, 510-590 ms.
  EXPECT_EQ(asked, (std::vector<std::vector<std::int64_t>>{ids(2, 26), ids(27, 51), ids(52, 60)}));
  ASSERT_EQ(primary->call_times.size(), 60u);
  for (std::size_t i = 0; i < 60; ++i) EXPECT_EQ(primary->call_times[i], i * 10ms) << i;
  EXPECT_EQ(updates.size(), 60u);
}

// A round reserves tokens only as far as half its lease: what would come later goes back to
// the queue, one token apart, each due a quarter lease before the token it would take.
TEST_F(DispatcherTest, MessagesWhoseTokensComeAfterHalfTheLeaseWaitInTheQueue) {
  config.lease = 2s;
  auto d = make(false, /*rate=*/10, /*burst=*/1);
  const auto updates = d->handle(batch_of(13), kNow);
  EXPECT_EQ(primary->sent.size(), 10u);  // tokens at 0 to 900 ms
  ASSERT_FALSE(primary->call_times.empty());
  EXPECT_EQ(primary->call_times.back(), 900ms);
  int deferred = 0;
  for (const auto& u : updates) {
    if (u.attempted) continue;
    ++deferred;
    EXPECT_EQ(u.status, MessageStatus::sending) << u.id;
    ASSERT_TRUE(u.due_at) << u.id;
    // Tokens 1000, 1100 and 1200 ms, less a quarter of the 2 s lease.
    EXPECT_EQ(*u.due_at, kNow + 500ms + (u.id - 11) * 100ms) << u.id;
  }
  EXPECT_EQ(deferred, 3);
}

// A shutdown while paced sends wait: the wait ends at once and the rest of the batch goes back
// to the queue unsent, due now, instead of the drain waiting for tokens.
TEST_F(DispatcherTest, AStopCutsTheWaitForATokenAndHandsTheRestBack) {
  auto d = make(false, /*rate=*/10, /*burst=*/1);
  clock->stop_at = clock->start + 250ms;
  const auto updates = d->handle(batch_of(6), kNow);
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1, 2, 3}));  // tokens at 0, 100, 200 ms
  EXPECT_EQ(clock->now() - clock->start, 250ms);  // not a moment longer
  ASSERT_EQ(updates.size(), 6u);
  for (const auto& u : updates) {
    if (u.id <= 3) continue;
    EXPECT_FALSE(u.attempted) << u.id;
    ASSERT_TRUE(u.due_at) << u.id;
    EXPECT_EQ(*u.due_at, kNow) << u.id;
  }
}

TEST_F(DispatcherTest, AStoppedDispatcherSendsNothingMore) {
  auto d = make(false);
  d->stop();
  const auto updates = d->handle(batch_of(3), kNow);
  EXPECT_TRUE(primary->sent.empty());
  ASSERT_EQ(updates.size(), 3u);
  for (const auto& u : updates) {
    EXPECT_FALSE(u.attempted) << u.id;
    ASSERT_TRUE(u.due_at) << u.id;
    EXPECT_EQ(*u.due_at, kNow) << u.id;
  }
}

// A round whose tokens are a while off checks every quarter second as it waits: a higher lane
// due (or the instance stopping) ends the wait and hands the rest back.
TEST_F(DispatcherTest, ALongWaitForTokensIsCheckedAndEndsWhenAHigherLaneIsDue) {
  auto d = make(false, /*rate=*/1, /*burst=*/1);
  std::vector<SteadyTime::duration> asked_at;
  const auto check = [&](const std::vector<std::int64_t>& ids, Lane) {
    asked_at.push_back(clock->now() - clock->start);
    store::SendCheck c;
    c.leased = ids;
    c.higher_lane_due = clock->now() - clock->start >= 500ms;
    return c;
  };
  const auto updates = d->handle(batch_of(3), kNow, check);  // tokens at 0, 1 s, 2 s
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(asked_at, (std::vector<SteadyTime::duration>{250ms, 500ms}));
  for (const auto& u : updates) {
    if (u.id == 1) continue;
    EXPECT_FALSE(u.attempted) << u.id;
    ASSERT_TRUE(u.due_at) << u.id;
    EXPECT_EQ(*u.due_at, kNow) << u.id;
  }
}

TEST_F(DispatcherTest, ALongWaitForTokensEndsWhenTheInstanceIsStopping) {
  auto d = make(false, /*rate=*/1, /*burst=*/1);
  const auto stopping = [&](const std::vector<std::int64_t>&, Lane) {
    store::SendCheck c;
    c.stopping = true;
    return c;
  };
  const auto updates = d->handle(batch_of(3), kNow, stopping);
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(clock->now() - clock->start, 250ms);
  EXPECT_EQ(updates.size(), 3u);
}

// The tokens of messages handed back are returned: the next round's first message takes the
// token the first unsent one had, not one after all that the round had reserved.
TEST_F(DispatcherTest, TokensOfMessagesHandedBackAreGivenBack) {
  auto d = make(false, /*rate=*/2, /*burst=*/1);
  const auto higher_lane_from_300ms = [&](const std::vector<std::int64_t>& ids, Lane) {
    store::SendCheck c;
    c.leased = ids;
    c.higher_lane_due = clock->now() - clock->start >= 300ms;
    return c;
  };
  d->handle(batch_of(4), kNow, higher_lane_from_300ms);  // tokens at 0, 0.5, 1, 1.5 s; 2-4 go back at 450 ms
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1}));
  d->handle({claimed(5)}, kNow);
  EXPECT_EQ(primary->call_times.back(), 500ms);  // message 2's token, given back; not 2 s
}

// A round that sends for longer than a second records what it has sent so far.
TEST_F(DispatcherTest, ALongPacedRoundRecordsItsSendsAsItGoes) {
  auto d = make(false, /*rate=*/10, /*burst=*/1);
  std::vector<std::vector<std::int64_t>> recorded;
  const Dispatcher::Record record = [&](const std::vector<store::MessageUpdate>& updates) {
    recorded.emplace_back();
    for (const auto& u : updates) recorded.back().push_back(u.id);
  };
  // The round hands them to the gateway's sender, which records as it goes and then the rest.
  EXPECT_TRUE(d->handle(batch_of(25), kNow, {}, std::nullopt, record).empty());  // 0 to 2.4 s
  d->finish();
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(recorded[0].size(), 11u);  // sent by 1 s
  EXPECT_EQ(recorded[0].back(), 11);
  EXPECT_EQ(recorded[1].size(), 10u);  // by 2 s
  EXPECT_EQ(recorded[2], (std::vector<std::int64_t>{22, 23, 24, 25}));
}

TEST_F(DispatcherTest, ExpiredMessageIsSuppressedNotSent) {
  auto d = make(false);
  auto c = claimed(1);
  c.expired = true;
  const auto u = d->handle({c}, kNow).at(0);
  EXPECT_EQ(u.status, MessageStatus::suppressed);
  EXPECT_EQ(u.suppression_reason, "expired");
  EXPECT_TRUE(primary->sent.empty());
}

}  // namespace
}  // namespace herald::engine

namespace herald::engine {
namespace {

TEST_F(DispatcherTest, MessagesNotSentBeforeHalfTheLeaseIsSpentWaitForTheNextRound) {
  config.lease = std::chrono::seconds(0);  // the deadline has passed before the first send
  auto d = make(false);
  const auto updates = d->handle({claimed(1), claimed(2)}, kNow);
  ASSERT_EQ(updates.size(), 2u);
  for (const auto& u : updates) {
    EXPECT_FALSE(u.attempted);
    EXPECT_EQ(u.status, MessageStatus::sending);
    ASSERT_TRUE(u.due_at);
    EXPECT_EQ(*u.due_at, kNow);
  }
  EXPECT_TRUE(primary->sent.empty());
}

// A gateway whose sends wait until the test lets them go.
class HeldGateway : public gateways::Gateway {
 public:
  HeldGateway(std::string name, Channel channel, std::shared_future<void> release)
      : name_(std::move(name)), channel_(channel), release_(std::move(release)) {}
  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }
  std::vector<gateways::SendResult> send_batch(const std::vector<gateways::OutboundMessage>& batch) override {
    started.set_value();
    // A bound only so that a dispatcher that never lets the other gateway send fails the test
    // instead of hanging it.
    released_in_time = release_.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
    return std::vector<gateways::SendResult>(batch.size(), {gateways::SendOutcome::sent, "P", 201, "", "", std::nullopt, 1});
  }
  std::promise<void> started;
  bool released_in_time = false;

 private:
  std::string name_;
  Channel channel_;
  std::shared_future<void> release_;
};

// Records its sends and lets a held gateway go.
class ReleasingGateway : public gateways::Gateway {
 public:
  ReleasingGateway(std::string name, Channel channel, std::promise<void>& release)
      : name_(std::move(name)), channel_(channel), release_(release) {}
  const std::string& name() const override { return name_; }
  Channel channel() const override { return channel_; }
  std::vector<gateways::SendResult> send_batch(const std::vector<gateways::OutboundMessage>& batch) override {
    sent += batch.size();
    release_.set_value();
    return std::vector<gateways::SendResult>(batch.size(), {gateways::SendOutcome::sent, "P", 250, "", "", std::nullopt, 1});
  }
  std::size_t sent = 0;

 private:
  std::string name_;
  Channel channel_;
  std::promise<void>& release_;
};

// An SMS gateway that holds its send until the email gateway has sent: if the two were sent
// one after the other, the SMS would wait forever.
struct StuckSmsAndEmail {
  std::promise<void> release;
  std::shared_ptr<HeldGateway> slow_sms =
      std::make_shared<HeldGateway>("slow-sms", Channel::sms, release.get_future().share());
  std::shared_ptr<ReleasingGateway> email = std::make_shared<ReleasingGateway>("email", Channel::email, release);
  Dispatcher dispatcher{DispatchConfig{}, routes()};
  store::ClaimedMessage mail = email_message(2);

  std::map<Channel, std::vector<GatewaySlot>> routes() {
    std::map<Channel, std::vector<GatewaySlot>> out;
    out[Channel::sms].push_back({slow_sms, 1000, 1000});
    out[Channel::email].push_back({email, 1000, 1000});
    return out;
  }
  static store::ClaimedMessage email_message(std::int64_t id) {
    auto m = claimed(id);
    m.message.channel = Channel::email;
    m.message.address = "ada@example.com";
    return m;
  }
};

TEST(DispatcherOverlap, AStuckGatewayDoesNotHoldUpAnotherGatewaysShareOfTheBatch) {
  StuckSmsAndEmail s;
  auto& slow_sms = s.slow_sms;
  auto& email = s.email;
  // The SMS is sent first (and held until the email has gone): one after the other, this never ends.
  const auto updates = s.dispatcher.handle({claimed(1), s.mail}, kNow);
  EXPECT_TRUE(slow_sms->released_in_time);
  EXPECT_EQ(email->sent, 1u);
  ASSERT_EQ(updates.size(), 2u);
  for (const auto& u : updates) EXPECT_EQ(u.status, MessageStatus::sent);
}

TEST(DispatcherOverlap, TwoWorkersSendToDifferentGatewaysAtTheSameTime) {
  StuckSmsAndEmail s;
  auto& slow_sms = s.slow_sms;
  auto sms_worker = std::async(std::launch::async, [&] { return s.dispatcher.handle({claimed(1)}, kNow); });
  slow_sms->started.get_future().wait();  // the SMS send is in progress
  const auto email_updates = s.dispatcher.handle({s.mail}, kNow);
  ASSERT_EQ(email_updates.size(), 1u);
  EXPECT_EQ(email_updates[0].status, MessageStatus::sent);
  const auto sms_updates = sms_worker.get();
  EXPECT_TRUE(slow_sms->released_in_time);
  ASSERT_EQ(sms_updates.size(), 1u);
  EXPECT_EQ(sms_updates[0].status, MessageStatus::sent);
}

// Lease checks: before each chunk (but a first one sent right after the claim) the dispatcher
// asks which messages are still leased, and sends only those.

TEST_F(DispatcherTest, ChunksAreNoLargerThanWhatTheGatewaySendsAtOnce) {
  auto d = make(false);
  primary->concurrency = 2;
  d->handle({claimed(1), claimed(2), claimed(3), claimed(4), claimed(5)}, kNow);
  EXPECT_EQ(primary->calls, (std::vector<std::size_t>{2, 2, 1}));
}

TEST_F(DispatcherTest, MessagesWhoseLeaseLapsedBeforeTheirChunkAreNotSentNorReported) {
  auto d = make(false);
  primary->concurrency = 2;
  std::vector<std::vector<std::int64_t>> asked;
  const auto still_leased = [&](const std::vector<std::int64_t>& ids, Lane) {
    asked.push_back(ids);
    store::SendCheck check;
    for (auto id : ids)
      if (id != 3) check.leased.push_back(id);  // message 3 was taken over by another instance
    return check;
  };
  const auto updates = d->handle({claimed(1), claimed(2), claimed(3), claimed(4)}, kNow, still_leased);
  // The first chunk went out on the claim's word; the second was checked.
  EXPECT_EQ(asked, (std::vector<std::vector<std::int64_t>>{{3, 4}}));
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1, 2, 4}));
  std::vector<std::int64_t> reported;
  for (const auto& u : updates) reported.push_back(u.id);
  EXPECT_EQ(reported, (std::vector<std::int64_t>{1, 2, 4}));
}

TEST_F(DispatcherTest, AClaimOlderThanAQuarterOfTheLeaseIsCheckedBeforeTheFirstChunk) {
  config.lease = std::chrono::seconds(40);
  auto d = make(false);
  // Claimed 15 s ago (a process frozen in between, say): past a quarter of the lease, before half.
  const auto leased_at = clock->now() - std::chrono::seconds(15);
  const auto nothing_leased = [](const std::vector<std::int64_t>&, Lane) { return store::SendCheck{}; };
  const auto updates = d->handle({claimed(1), claimed(2)}, kNow, nothing_leased, leased_at);
  EXPECT_TRUE(primary->sent.empty());
  EXPECT_TRUE(updates.empty());
}

// Opt-outs: a message whose address opted out is suppressed, whether the claim saw it or the
// check before its chunk did; the rest of the chunk still goes.

TEST_F(DispatcherTest, AMessageClaimedAsOptedOutIsSuppressedNotSent) {
  auto d = make(false);
  auto stopped = claimed(2);
  stopped.opted_out = true;
  const auto updates = d->handle({claimed(1), stopped}, kNow);
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1}));
  ASSERT_EQ(updates.size(), 2u);
  for (const auto& u : updates) {
    if (u.id != 2) continue;
    EXPECT_EQ(u.status, MessageStatus::suppressed);
    EXPECT_EQ(u.suppression_reason, "opted_out");
    EXPECT_FALSE(u.due_at.has_value());
    EXPECT_FALSE(u.attempted);
  }
}

TEST_F(DispatcherTest, AMessageOptedOutBeforeItsChunkIsSuppressedAndTheRestOfTheChunkGoes) {
  auto d = make(false);
  primary->concurrency = 2;
  const auto check = [&](const std::vector<std::int64_t>& ids, Lane) {
    store::SendCheck c;
    for (auto id : ids) (id == 4 ? c.opted_out : c.leased).push_back(id);
    return c;
  };
  const auto updates = d->handle({claimed(1), claimed(2), claimed(3), claimed(4)}, kNow, check);
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1, 2, 3}));
  ASSERT_EQ(updates.size(), 4u);
  for (const auto& u : updates) {
    EXPECT_EQ(u.status, u.id == 4 ? MessageStatus::suppressed : MessageStatus::sent) << u.id;
    if (u.id == 4) {
      EXPECT_EQ(u.suppression_reason, "opted_out");
    }
  }
}

// A verification code posted while a worker sends a storm's outage texts: the check before the
// next chunk sees the higher lane due, and the rest of the batch goes back to the queue unsent,
// due now, so the worker's next claim takes the code instead of finishing the backlog first.
TEST_F(DispatcherTest, AHigherLaneDueHandsTheRestOfTheBatchBackUnsent) {
  auto d = make(false);
  primary->concurrency = 2;
  std::vector<Lane> asked_for;
  const auto check = [&](const std::vector<std::int64_t>& ids, Lane lane) {
    asked_for.push_back(lane);
    store::SendCheck c;
    c.leased = ids;
    c.higher_lane_due = true;
    return c;
  };
  std::vector<store::ClaimedMessage> batch;
  for (std::int64_t id = 1; id <= 5; ++id) {
    batch.push_back(claimed(id));
    batch.back().lane = Lane::outage;
  }
  const auto updates = d->handle(batch, kNow, check);
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(asked_for, (std::vector<Lane>{Lane::outage}));
  ASSERT_EQ(updates.size(), 5u);
  for (const auto& u : updates) {
    if (u.id <= 2) {
      EXPECT_EQ(u.status, MessageStatus::sent) << u.id;
      continue;
    }
    EXPECT_FALSE(u.attempted) << u.id;
    ASSERT_TRUE(u.due_at.has_value()) << u.id;
    EXPECT_EQ(*u.due_at, kNow) << u.id;
  }
}

}  // namespace
// A shutdown while a round is sending a big batch: the check before the next chunk says the
// instance is stopping, and the rest goes back to the queue unsent, so the drain ends within
// its grace instead of sending the whole batch first.
TEST_F(DispatcherTest, StoppingHandsTheRestOfTheBatchBackUnsent) {
  auto d = make(false);
  primary->concurrency = 2;
  const auto check = [&](const std::vector<std::int64_t>&, Lane) {
    store::SendCheck c;
    c.stopping = true;
    return c;
  };
  std::vector<store::ClaimedMessage> batch;
  for (std::int64_t id = 1; id <= 6; ++id) batch.push_back(claimed(id));
  const auto updates = d->handle(batch, kNow, check);
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1, 2}));
  ASSERT_EQ(updates.size(), 6u);
  for (const auto& u : updates) {
    if (u.id <= 2) continue;
    EXPECT_FALSE(u.attempted) << u.id;
    ASSERT_TRUE(u.due_at.has_value()) << u.id;
    EXPECT_EQ(*u.due_at, kNow) << u.id;
  }
}

}  // namespace herald::engine

namespace herald::engine {
namespace {

// A gateway that waits for its tokens has a sender of its own: the round hands the paced share
// over and returns as soon as the rest (here an email) is sent; the sender sends each SMS when
// its token comes and records them, then lets go of the round's hold.
TEST_F(DispatcherTest, ARoundHandsTheSharesWaitingForTokensToTheirGatewaysSender) {
  auto mail = std::make_shared<ScriptedGateway>("mail");
  std::map<Channel, std::vector<GatewaySlot>> routes;
  routes[Channel::sms].push_back({primary, /*rate=*/1, /*burst=*/1});
  routes[Channel::email].push_back({mail, 1e6, 1e6});
  Dispatcher d(config, routes, clock);
  std::mutex mu;
  std::vector<store::MessageUpdate> recorded;
  const Dispatcher::Record record = [&](const std::vector<store::MessageUpdate>& updates) {
    std::lock_guard lock(mu);
    recorded.insert(recorded.end(), updates.begin(), updates.end());
  };
  auto hold = std::make_shared<int>(0);
  std::weak_ptr<int> held = hold;
  auto batch = batch_of(3);  // SMS: tokens at 0, 1 and 2 s
  batch.push_back(claimed(4));
  batch.back().message.channel = Channel::email;
  batch.back().message.address = "ada@example.com";

  // The sender's waits for its tokens would move the clock the round's own send reads (more than
  // a second on, and the round hands what it sent to the record instead of returning it): time
  // stands still until the round is back.
  clock->hold();
  const auto updates = d.handle(batch, kNow, {}, std::nullopt, record, std::move(hold));
  clock->let_go();
  ASSERT_EQ(updates.size(), 1u);  // the email; the SMS are the sender's
  EXPECT_EQ(updates[0].id, 4);
  EXPECT_EQ(updates[0].status, MessageStatus::sent);
  EXPECT_EQ(mail->sent.size(), 1u);

  d.finish();
  EXPECT_TRUE(held.expired());  // let go once recorded
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(primary->call_times, (std::vector<SteadyTime::duration>{0s, 1s, 2s}));
  std::vector<std::int64_t> sent;
  for (const auto& u : recorded) {
    EXPECT_EQ(u.status, MessageStatus::sent) << u.id;
    sent.push_back(u.id);
  }
  std::sort(sent.begin(), sent.end());
  EXPECT_EQ(sent, (std::vector<std::int64_t>{1, 2, 3}));
}

// A verification code for a gateway whose sender holds a storm's outage texts: the sender hands
// the outage texts it has not sent back, tokens and all, and the code takes the next token (by
// the one the second outage text had), not one after every token the storm had reserved.
TEST_F(DispatcherTest, AHigherLaneTakesTheNextTokenOfASenderHoldingALowerOne) {
  clock->real_pause = 50ms;  // each wait lets the test's next round in first
  auto d = make(false, /*rate=*/1, /*burst=*/1);
  std::mutex mu;
  std::vector<store::MessageUpdate> updates;
  const Dispatcher::Record record = [&](const std::vector<store::MessageUpdate>& recorded) {
    std::lock_guard lock(mu);
    updates.insert(updates.end(), recorded.begin(), recorded.end());
  };
  auto storm = batch_of(4);  // tokens at 0, 1, 2 and 3 s
  for (auto& c : storm) c.lane = Lane::outage;
  auto code = claimed(10);
  code.lane = Lane::verification;
  for (const auto& batch : {storm, std::vector<store::ClaimedMessage>{code}}) {
    const auto returned = d->handle(batch, kNow, {}, std::nullopt, record);
    std::lock_guard lock(mu);
    updates.insert(updates.end(), returned.begin(), returned.end());
  }
  d->finish();

  // The code went out by the second token; the first outage text may have gone before it.
  const auto sent = ids_sent(*primary);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back(), 10);
  EXPECT_LE(primary->call_times.back(), 1s);
  EXPECT_LE(sent.size(), 2u);
  // Every message is accounted for once: sent, or back in the queue due now, unattempted.
  std::vector<std::int64_t> ids;
  for (const auto& u : updates) {
    ids.push_back(u.id);
    if (std::find(sent.begin(), sent.end(), u.id) != sent.end()) {
      EXPECT_EQ(u.status, MessageStatus::sent) << u.id;
      continue;
    }
    EXPECT_FALSE(u.attempted) << u.id;
    ASSERT_TRUE(u.due_at) << u.id;
    EXPECT_EQ(*u.due_at, kNow) << u.id;
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2, 3, 4, 10}));
}

// A stop while a sender waits for tokens: it hands the rest back (due now, recorded) at once.
TEST_F(DispatcherTest, AStopHandsBackWhatASenderHolds) {
  clock->stop_at = clock->start + 1500ms;
  auto d = make(false, /*rate=*/1, /*burst=*/1);
  std::mutex mu;
  std::vector<store::MessageUpdate> recorded;
  const Dispatcher::Record record = [&](const std::vector<store::MessageUpdate>& updates) {
    std::lock_guard lock(mu);
    recorded.insert(recorded.end(), updates.begin(), updates.end());
  };
  EXPECT_TRUE(d->handle(batch_of(4), kNow, {}, std::nullopt, record).empty());
  d->finish();
  EXPECT_EQ(ids_sent(*primary), (std::vector<std::int64_t>{1, 2}));  // tokens at 0 and 1 s
  ASSERT_EQ(recorded.size(), 4u);
  for (const auto& u : recorded) {
    if (u.id <= 2) {
      EXPECT_EQ(u.status, MessageStatus::sent) << u.id;
      continue;
    }
    EXPECT_FALSE(u.attempted) << u.id;
    ASSERT_TRUE(u.due_at) << u.id;
    EXPECT_EQ(*u.due_at, kNow) << u.id;
  }
}

}  // namespace
}  // namespace herald::engine

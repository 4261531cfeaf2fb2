// Retry backoff, token buckets and circuit breakers over an injected time.
#include "herald/rules/delivery_policy.hpp"

#include <gtest/gtest.h>

#include "herald/rules/clock.hpp"
#include "test_time.hpp"

namespace herald::rules {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
const TimePoint kT0 = test::utc(2026, 11, 20, 12);

TEST(FullJitterBackoff, ScalesTheExponentialCeilingByTheRandomFraction) {
  EXPECT_EQ(full_jitter_backoff(0, Seconds(2), Seconds(300), 0.999), std::chrono::milliseconds(1998));
  EXPECT_EQ(full_jitter_backoff(3, Seconds(2), Seconds(300), 0.5), Seconds(8));   // 0.5 * 16
  EXPECT_EQ(full_jitter_backoff(3, Seconds(2), Seconds(300), 0.0), Seconds(0));
  EXPECT_EQ(full_jitter_backoff(10, Seconds(2), Seconds(300), 0.5), Seconds(150));  // capped at 300
}

TEST(FullJitterBackoff, HugeAttemptsSaturateAtTheCap) {
  EXPECT_EQ(full_jitter_backoff(5000, Seconds(2), Seconds(300), 1.0), Seconds(300));
  EXPECT_EQ(full_jitter_backoff(-3, Seconds(2), Seconds(300), 1.0), Seconds(2));
}

TEST(TokenBucket, StartsFullThenRefillsAtTheRate) {
  TokenBucket bucket(10, 3);  // 10 per second, bursts of 3
  EXPECT_TRUE(bucket.try_take(kT0));
  EXPECT_TRUE(bucket.try_take(kT0));
  EXPECT_TRUE(bucket.try_take(kT0));
  EXPECT_FALSE(bucket.try_take(kT0));
  EXPECT_EQ(bucket.wait_time(kT0), milliseconds(100));
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(99)));
  EXPECT_TRUE(bucket.try_take(kT0 + milliseconds(100)));
  EXPECT_EQ(bucket.wait_time(kT0 + milliseconds(100)), milliseconds(100));
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  TokenBucket bucket(1, 2);
  EXPECT_TRUE(bucket.try_take(kT0, 2));
  TimePoint later = kT0 + Seconds(3600);
  EXPECT_TRUE(bucket.try_take(later));
  EXPECT_TRUE(bucket.try_take(later));
  EXPECT_FALSE(bucket.try_take(later));
  EXPECT_EQ(bucket.wait_time(later), Seconds(1));
}

TEST(TokenBucket, ClockSteppingBackwardsRefillsNothing) {
  TokenBucket bucket(1, 1);
  EXPECT_TRUE(bucket.try_take(kT0));
  EXPECT_FALSE(bucket.try_take(kT0 - Seconds(10)));
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(500)));
  EXPECT_TRUE(bucket.try_take(kT0 + Seconds(1)));
}

// Reservations run the bucket into debt: each token comes 1/rate after the one before,
// however many are taken at once, and none is taken past the latest time asked for.
TEST(TokenBucket, ReservedTokensComeOneIntervalApartUpToTheLatestTime) {
  TokenBucket bucket(10, 2);  // 10 per second, bursts of 2
  const auto latest = kT0 + milliseconds(300);
  EXPECT_EQ(bucket.reserve(kT0, latest), kT0);  // the burst: there now
  EXPECT_EQ(bucket.reserve(kT0, latest), kT0);
  EXPECT_EQ(bucket.reserve(kT0, latest), kT0 + milliseconds(100));
  EXPECT_EQ(bucket.reserve(kT0, latest), kT0 + milliseconds(200));
  EXPECT_EQ(bucket.reserve(kT0, latest), kT0 + milliseconds(300));
  EXPECT_EQ(bucket.reserve(kT0, latest), std::nullopt);  // 400 ms: past the latest, not taken
  EXPECT_EQ(bucket.wait_time(kT0), milliseconds(400));
  // Later on, a second taker queues behind what the first holds.
  EXPECT_EQ(bucket.reserve(kT0 + milliseconds(150), kT0 + Seconds(1)), kT0 + milliseconds(400));
  EXPECT_FALSE(bucket.try_take(kT0 + milliseconds(450)));
}

TEST(TokenBucket, TokensGivenBackComeAgainSooner) {
  TokenBucket bucket(10, 1);
  const auto latest = kT0 + Seconds(10);
  EXPECT_EQ(bucket.reserve(kT0, latest), kT0);
  EXPECT_EQ(bucket.reserve(kT0, latest), kT0 + milliseconds(100));
  EXPECT_EQ(bucket.reserve(kT0, latest), kT0 + milliseconds(200));
  bucket.give_back(kT0 + milliseconds(50), 2);  // the sends at 100 and 200 ms were handed back
  EXPECT_EQ(bucket.reserve(kT0 + milliseconds(50), latest), kT0 + milliseconds(100));
  // Giving back never fills the bucket past its burst.
  bucket.give_back(kT0 + Seconds(5), 100);
  EXPECT_TRUE(bucket.try_take(kT0 + Seconds(5)));
  EXPECT_FALSE(bucket.try_take(kT0 + Seconds(5)));
}

TEST(TokenBucket, ZeroRateMeansUnlimited) {
  TokenBucket bucket(0, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.try_take(kT0));
  EXPECT_EQ(bucket.wait_time(kT0), microseconds(0));
}

TEST(CircuitBreaker, OpensAfterConsecutiveFailures) {
  CircuitBreaker breaker(3, Seconds(30));
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  breaker.record_success();  // resets the count
  breaker.record_failure(kT0);
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), CircuitBreaker::closed);
  EXPECT_TRUE(breaker.allow(kT0));
  breaker.record_failure(kT0);
  EXPECT_EQ(breaker.state(kT0), CircuitBreaker::open);
  EXPECT_FALSE(breaker.allow(kT0 + Seconds(29)));
}

TEST(CircuitBreaker, HalfOpenLetsOneProbeThroughAndItsSuccessCloses) {
  CircuitBreaker breaker(1, Seconds(30));
  breaker.record_failure(kT0);
  TimePoint later = kT0 + Seconds(30);
  EXPECT_EQ(breaker.state(later), CircuitBreaker::half_open);
  EXPECT_TRUE(breaker.allow(later));
  EXPECT_FALSE(breaker.allow(later));  // one probe at a time
  breaker.record_success();
  EXPECT_EQ(breaker.state(later), CircuitBreaker::closed);
  EXPECT_TRUE(breaker.allow(later));
  EXPECT_TRUE(breaker.allow(later));
}

TEST(CircuitBreaker, FailedProbeReopensForAnotherPeriod) {
  CircuitBreaker breaker(1, Seconds(30));
  breaker.record_failure(kT0);
  TimePoint probe = kT0 + Seconds(31);
  ASSERT_TRUE(breaker.allow(probe));
  breaker.record_failure(probe);
  EXPECT_EQ(breaker.state(probe), CircuitBreaker::open);
  EXPECT_FALSE(breaker.allow(probe + Seconds(29)));
  EXPECT_TRUE(breaker.allow(probe + Seconds(30)));
}

TEST(CircuitBreaker, LateFailuresDoNotExtendTheOpenPeriod) {
  CircuitBreaker breaker(1, Seconds(30));
  breaker.record_failure(kT0);
  breaker.record_failure(kT0 + Seconds(20));  // a send that started before the breaker opened
  EXPECT_TRUE(breaker.allow(kT0 + Seconds(30)));
}

TEST(CircuitBreaker, AProbeThatNeverReportsIsReplaced) {
  CircuitBreaker breaker(1, Seconds(30));
  breaker.record_failure(kT0);
  ASSERT_TRUE(breaker.allow(kT0 + Seconds(30)));
  EXPECT_FALSE(breaker.allow(kT0 + Seconds(59)));
  EXPECT_TRUE(breaker.allow(kT0 + Seconds(60)));
}

TEST(ManualClock, IsSetAndAdvancedByHand) {
  ManualClock clock(kT0);
  EXPECT_EQ(clock.now(), kT0);
  clock.advance(Seconds(90));
  EXPECT_EQ(clock.now(), kT0 + Seconds(90));
  clock.set(kT0 - Seconds(1));
  EXPECT_EQ(clock.now(), kT0 - Seconds(1));
  const Clock& as_interface = clock;
  EXPECT_EQ(as_interface.now(), kT0 - Seconds(1));
}

TEST(SystemClock, IsCloseToTheSystemTime) {
  SystemClock clock;
  auto diff = clock.now() - std::chrono::system_clock::now();
  EXPECT_LT(std::chrono::abs(diff), Seconds(5));
}

// judge_attempt: what one send attempt leads to.

const RetryPolicy kPolicy{3, milliseconds(1000), milliseconds(60000)};

AttemptAnswer transient(int http_status, std::optional<microseconds> retry_after = std::nullopt) {
  return {AttemptAnswer::transient, http_status, retry_after};
}

TEST(JudgeAttempt, AcceptedIsSentAndTheGatewayHealthy) {
  const auto v = judge_attempt({AttemptAnswer::accepted, 201, std::nullopt}, 1, 0, 2, kPolicy, 0.5);
  EXPECT_EQ(v.next, AttemptVerdict::sent);
  EXPECT_EQ(v.gateway, AttemptVerdict::healthy);
}

TEST(JudgeAttempt, RefusalAndOptOutAreFinalButTheGatewayIsHealthy) {
  for (auto kind : {AttemptAnswer::refused, AttemptAnswer::opted_out}) {
    const auto v = judge_attempt({kind, 400, std::nullopt}, 1, 0, 2, kPolicy, 0.5);
    EXPECT_EQ(v.next, AttemptVerdict::failed);
    EXPECT_EQ(v.gateway, AttemptVerdict::healthy);
  }
}

TEST(JudgeAttempt, ServerErrorFailsOverToTheNextGatewayInTheChain) {
  auto v = judge_attempt(transient(500), 1, 0, 3, kPolicy, 0.5);
  EXPECT_EQ(v.next, AttemptVerdict::failover);
  EXPECT_EQ(v.next_route, 1u);
  EXPECT_EQ(v.gateway, AttemptVerdict::unhealthy);
  v = judge_attempt(transient(500), 2, 2, 3, kPolicy, 0.5);
  EXPECT_EQ(v.next_route, 0u);  // the chain wraps around
}

TEST(JudgeAttempt, ServerErrorWithoutBackupRetriesAfterFullJitterBackoff) {
  const auto v = judge_attempt(transient(503), 2, 0, 1, kPolicy, 0.5);
  EXPECT_EQ(v.next, AttemptVerdict::retry);
  EXPECT_EQ(v.delay, milliseconds(2000));  // 0.5 * min(cap, 1 s * 2^2)
  EXPECT_EQ(v.gateway, AttemptVerdict::unhealthy);
}

TEST(JudgeAttempt, RateLimitWaitsOnTheSameGatewayAtLeastRetryAfterAndSaysNothingOfItsHealth) {
  const auto v = judge_attempt(transient(429, Seconds(7)), 1, 0, 2, kPolicy, 0.5);
  EXPECT_EQ(v.next, AttemptVerdict::retry);
  EXPECT_EQ(v.delay, Seconds(7));
  EXPECT_EQ(v.gateway, AttemptVerdict::unknown);
}

TEST(JudgeAttempt, BackoffLongerThanRetryAfterIsKept) {
  const auto v = judge_attempt(transient(429, Seconds(1)), 2, 0, 1, kPolicy, 1.0);
  EXPECT_EQ(v.delay, Seconds(4));
}

TEST(JudgeAttempt, TransientFailureOnTheLastAttemptIsDeadEvenWithABackup) {
  const auto v = judge_attempt(transient(500), 3, 0, 2, kPolicy, 0.5);
  EXPECT_EQ(v.next, AttemptVerdict::dead);
  EXPECT_EQ(v.gateway, AttemptVerdict::unhealthy);
}

}  // namespace
}  // namespace herald::rules

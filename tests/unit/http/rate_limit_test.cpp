// The per-caller rate limiter: bursts, refill, independent callers, Retry-After rounding.
#include "herald/http/rate_limit.hpp"

#include <gtest/gtest.h>

using namespace herald::http;
using namespace std::chrono_literals;
using herald::TimePoint;

namespace {
const TimePoint t0 = TimePoint(std::chrono::seconds(1'800'000'000));
}

TEST(RateLimiter, AdmitsTheBurstThenRefusesWithTheTimeUntilTheNextToken) {
  RateLimiter limiter;
  const RateLimit limit{2, 3};
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.admit("cis:k1", limit, t0)) << i;
  auto wait = limiter.admit("cis:k1", limit, t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 500ms);
  EXPECT_EQ(retry_after_seconds(*wait), 1);
}

TEST(RateLimiter, RefillsAtTheConfiguredRate) {
  RateLimiter limiter;
  const RateLimit limit{2, 1};
  EXPECT_FALSE(limiter.admit("c", limit, t0));
  EXPECT_TRUE(limiter.admit("c", limit, t0 + 400ms));
  EXPECT_FALSE(limiter.admit("c", limit, t0 + 500ms));
  EXPECT_TRUE(limiter.admit("c", limit, t0 + 500ms));
}

TEST(RateLimiter, CallersHaveTheirOwnBuckets) {
  RateLimiter limiter;
  const RateLimit limit{1, 1};
  EXPECT_FALSE(limiter.admit("cis:a", limit, t0));
  EXPECT_TRUE(limiter.admit("cis:a", limit, t0));
  EXPECT_FALSE(limiter.admit("cis:b", limit, t0));
  EXPECT_FALSE(limiter.admit("customer:a", limit, t0));
}

TEST(RateLimiter, ZeroPerSecondIsUnlimited) {
  RateLimiter limiter;
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(limiter.admit("k", RateLimit{0, 1}, t0));
}

TEST(RateLimiter, ForgettingRefilledBucketsKeepsEveryCallersLimit) {
  RateLimiter limiter(/*max_idle_buckets=*/2);
  const RateLimit limit{1, 1};
  EXPECT_FALSE(limiter.admit("a", limit, t0));
  EXPECT_FALSE(limiter.admit("b", limit, t0));
  // "a" and "b" are full again after a second; a third caller makes room by forgetting them.
  EXPECT_FALSE(limiter.admit("c", limit, t0 + 2s));
  EXPECT_TRUE(limiter.admit("c", limit, t0 + 2s));
  EXPECT_FALSE(limiter.admit("a", limit, t0 + 2s));
  EXPECT_TRUE(limiter.admit("a", limit, t0 + 2s));
}

TEST(RetryAfter, RoundsUpToWholeSecondsAndIsAtLeastOne) {
  EXPECT_EQ(retry_after_seconds(1us), 1);
  EXPECT_EQ(retry_after_seconds(1000ms), 1);
  EXPECT_EQ(retry_after_seconds(1001ms), 2);
  EXPECT_EQ(retry_after_seconds(0us), 1);
}

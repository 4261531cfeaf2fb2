// Delivery pacing: full-jitter retry backoff, token-bucket rate limits, per-gateway circuit breakers.
// Plain values over an injected time; not thread-safe: the dispatcher serialises all use
// (one owner per bucket and breaker).
#pragma once

#include <chrono>

#include "herald/domain/types.hpp"

namespace herald::rules {

// random01 (in [0, 1)) * min(cap, base * 2^attempt), truncated to whole milliseconds; attempt 0
// is the first retry. Large attempts saturate at cap without overflow.
std::chrono::milliseconds full_jitter_backoff(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                              double random01);

// rate_per_s tokens per second, holding at most burst; starts full. rate_per_s <= 0 means
// unlimited. A clock that steps backwards refills nothing.
class TokenBucket {
 public:
  TokenBucket(double rate_per_s, double burst);
  bool try_take(TimePoint now, double n = 1);
  // How long until one token is available (zero when one is now).
  std::chrono::microseconds wait_time(TimePoint now) const;

 private:
  double available(TimePoint now) const;
  double rate_;
  double burst_;
  double tokens_;
  std::optional<TimePoint> last_;
};

// failure_threshold consecutive failures open the breaker for open_for; then it is half-open:
// allow() lets one probe through; its success closes the breaker, its failure re-opens it.
// A probe that never reports back is replaced by another after open_for.
class CircuitBreaker {
 public:
  enum State { closed, open, half_open };
  CircuitBreaker(int failure_threshold, Seconds open_for);
  bool allow(TimePoint now);
  void record_success();
  void record_failure(TimePoint now);
  State state(TimePoint now) const;

 private:
  int threshold_;
  Seconds open_for_;
  State state_ = closed;
  int failures_ = 0;
  TimePoint opened_at_{};
  std::optional<TimePoint> probe_started_;
};

}  // namespace herald::rules

// Full-jitter backoff, token buckets, circuit breakers and the verdict on one send attempt.
#include "herald/rules/delivery_policy.hpp"

#include <algorithm>
#include <cmath>

namespace herald::rules {

std::chrono::milliseconds full_jitter_backoff(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                              double random01) {
  random01 = std::clamp(random01, 0.0, 1.0);
  // Doubling in floating point saturates cleanly: 2^1000 is finite, min() takes cap.
  double ceiling = std::min(static_cast<double>(cap.count()),
                            static_cast<double>(base.count()) * std::pow(2.0, std::max(0, std::min(attempt, 1000))));
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(random01 * ceiling));
}

TokenBucket::TokenBucket(double rate_per_s, double burst)
    : rate_(rate_per_s), burst_(std::max(burst, 1.0)), tokens_(std::max(burst, 1.0)) {}

double TokenBucket::available(TimePoint now) const {
  if (!last_ || now <= *last_) return tokens_;
  double elapsed = std::chrono::duration<double>(now - *last_).count();
  return std::min(burst_, tokens_ + elapsed * rate_);
}

bool TokenBucket::try_take(TimePoint now, double n) {
  if (rate_ <= 0) return true;
  tokens_ = available(now);
  if (!last_ || now > *last_) last_ = now;
  if (tokens_ + 1e-9 < n) return false;
  tokens_ -= n;
  return true;
}

std::optional<TimePoint> TokenBucket::reserve(TimePoint now, TimePoint latest) {
  if (rate_ <= 0) return now;
  tokens_ = available(now);
  if (!last_ || now > *last_) last_ = now;
  const double missing = 1.0 - tokens_;
  auto due = now;
  // Rounded up to whole microseconds, less a nanosecond of floating-point noise.
  if (missing > 1e-9) due += std::chrono::microseconds(static_cast<std::int64_t>(std::ceil(missing / rate_ * 1e6 - 1e-3)));
  if (due > now && due > latest) return std::nullopt;
  tokens_ -= 1;
  return due;
}

void TokenBucket::give_back(TimePoint now, double n) {
  if (rate_ <= 0) return;
  tokens_ = available(now);
  if (!last_ || now > *last_) last_ = now;
  tokens_ = std::min(burst_, tokens_ + n);
}

std::chrono::microseconds TokenBucket::wait_time(TimePoint now) const {
  if (rate_ <= 0) return std::chrono::microseconds(0);
  double missing = 1.0 - available(now);
  if (missing <= 1e-9) return std::chrono::microseconds(0);
  return std::chrono::microseconds(static_cast<std::int64_t>(std::ceil(missing / rate_ * 1e6)));
}

CircuitBreaker::CircuitBreaker(int failure_threshold, Seconds open_for)
    : threshold_(std::max(1, failure_threshold)), open_for_(open_for) {}

bool CircuitBreaker::allow(TimePoint now) {
  switch (state_) {
    case closed: return true;
    case open:
      if (now < opened_at_ + open_for_) return false;
      state_ = half_open;
      probe_started_ = now;
      return true;
    case half_open:
      if (probe_started_ && now < *probe_started_ + open_for_) return false;
      probe_started_ = now;
      return true;
  }
  return true;
}

void CircuitBreaker::record_success() {
  state_ = closed;
  failures_ = 0;
  probe_started_.reset();
}

void CircuitBreaker::record_failure(TimePoint now) {
  // Late failures of sends started before the breaker opened do not extend the open time.
  if (state_ == open) return;
  if (state_ == half_open) {
    state_ = open;
    opened_at_ = now;
    probe_started_.reset();
    return;
  }
  if (++failures_ >= threshold_) {
    state_ = open;
    opened_at_ = now;
  }
}

CircuitBreaker::State CircuitBreaker::state(TimePoint now) const {
  if (state_ == open && now >= opened_at_ + open_for_) return half_open;
  return state_;
}

AttemptVerdict judge_attempt(const AttemptAnswer& answer, int attempt, std::size_t route_index, std::size_t chain_size,
                             const RetryPolicy& policy, double random01) {
  AttemptVerdict v;
  switch (answer.kind) {
    case AttemptAnswer::accepted:
      v.next = AttemptVerdict::sent;
      v.gateway = AttemptVerdict::healthy;
      return v;
    case AttemptAnswer::refused:
    case AttemptAnswer::opted_out:
      // The provider answered: it is healthy even though this message is refused.
      v.next = AttemptVerdict::failed;
      v.gateway = AttemptVerdict::healthy;
      return v;
    case AttemptAnswer::transient:
      break;
  }
  const bool rate_limited = answer.http_status == 429;
  v.gateway = rate_limited ? AttemptVerdict::unknown : AttemptVerdict::unhealthy;
  if (attempt >= policy.max_attempts) {
    v.next = AttemptVerdict::dead;
    return v;
  }
  if (!rate_limited && chain_size > 1) {
    // Another gateway may do better right away; the failed one's breaker keeps count.
    v.next = AttemptVerdict::failover;
    v.next_route = (route_index + 1) % chain_size;
    return v;
  }
  v.next = AttemptVerdict::retry;
  v.delay = std::chrono::duration_cast<std::chrono::microseconds>(
      full_jitter_backoff(attempt, policy.backoff_base, policy.backoff_cap, random01));
  if (answer.retry_after) v.delay = std::max(v.delay, *answer.retry_after);
  return v;
}

}  // namespace herald::rules

// Per-caller token buckets behind one mutex (rules::TokenBucket is not thread-safe).
#include "herald/http/rate_limit.hpp"

#include <algorithm>

namespace herald::http {

std::optional<std::chrono::microseconds> RateLimiter::admit(const std::string& caller, const RateLimit& limit,
                                                            TimePoint now) {
  if (limit.per_second <= 0) return std::nullopt;
  const auto refill = std::chrono::microseconds(
      static_cast<std::int64_t>(std::max(limit.burst, 1.0) / limit.per_second * 1e6) + 1);
  std::lock_guard lock(mu_);
  auto it = buckets_.find(caller);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_idle_) forget_full(now);
    it = buckets_.emplace(caller, Entry{rules::TokenBucket(limit.per_second, limit.burst), now}).first;
  }
  auto& entry = it->second;
  if (!entry.bucket.try_take(now)) return std::max(entry.bucket.wait_time(now), std::chrono::microseconds(1));
  entry.full_again = now + refill;
  return std::nullopt;
}

// Many callers (customer tokens) come and go: drop the buckets that have refilled, which
// behave exactly like the fresh bucket a returning caller would get.
void RateLimiter::forget_full(TimePoint now) {
  for (auto it = buckets_.begin(); it != buckets_.end();)
    it = it->second.full_again <= now ? buckets_.erase(it) : std::next(it);
}

long retry_after_seconds(std::chrono::microseconds wait) {
  const auto whole = std::chrono::ceil<std::chrono::seconds>(wait).count();
  return std::max<long>(1, static_cast<long>(whole));
}

}  // namespace herald::http

// Request rate limits per caller: a token bucket per API key or customer token, in process
// (each instance counts its own requests).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "herald/domain/types.hpp"
#include "herald/rules/delivery_policy.hpp"

namespace herald::http {

// per_second <= 0: unlimited. burst: requests allowed at once after a quiet spell.
struct RateLimit {
  double per_second = 0;
  double burst = 0;
};

// Defaults leave a CIS sync and bench/load/run.py (32 clients, one key) far from the limit;
// a customer's browser, an admin revealing addresses and portal-token minting get less.
struct RateLimits {
  RateLimit cis{5000, 10000};
  RateLimit admin{200, 400};
  RateLimit customer{5, 20};
  RateLimit reveal{1, 10};         // per admin key, requests with ?reveal=1, on top of admin
  RateLimit portal_token{50, 100};  // per key, POST /v1/customers/{id}/portal-tokens, on top of cis/admin
};

// Thread-safe. Buckets are keyed by the caller's limit class and identity, e.g.
// "cis:<key id>" or "customer:<customer id>".
class RateLimiter {
 public:
  // A bucket unused this long is full again, like a new one, and may be forgotten.
  explicit RateLimiter(std::size_t max_idle_buckets = 10000) : max_idle_(max_idle_buckets) {}

  // Takes one request from the caller's bucket. nullopt: admitted; otherwise how long until
  // the next request would be.
  std::optional<std::chrono::microseconds> admit(const std::string& caller, const RateLimit& limit, TimePoint now);

 private:
  struct Entry {
    rules::TokenBucket bucket;
    TimePoint full_again;  // when the bucket holds its burst again if untouched
  };
  void forget_full(TimePoint now);

  std::size_t max_idle_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> buckets_;
};

// Seconds for a Retry-After header: the wait rounded up, at least 1.
long retry_after_seconds(std::chrono::microseconds wait);

}  // namespace herald::http

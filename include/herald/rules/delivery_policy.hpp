// Delivery pacing and policy: full-jitter retry backoff, token-bucket rate limits, per-gateway
// circuit breakers, and what to do after one send attempt. Plain values over an injected time;
// buckets and breakers are not thread-safe: their owner locks each one.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

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
  // Takes the next token even before it is there, when it comes by `latest` (or is there now):
  // returns when it comes. The bucket runs into debt, so tokens taken one after another come
  // 1/rate apart whoever takes them: a sender that waits for each one sends evenly at the rate
  // instead of in bursts. A token later than `latest` is not taken: nullopt.
  std::optional<TimePoint> reserve(TimePoint now, TimePoint latest);
  // Returns `n` tokens taken and not used (their sends were handed back): the next ones come
  // that much sooner. Never more than the burst.
  void give_back(TimePoint now, double n);
  // How long until one token is available (zero when one is now; tokens reserved count).
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

// What a provider said about one send attempt, reduced to what the policy needs.
struct AttemptAnswer {
  enum Kind {
    accepted,   // the provider took the message
    refused,    // permanent: the provider refused this message
    opted_out,  // permanent: the recipient opted out at the provider
    transient,  // try again: network, timeout, 429, 5xx, SMTP 4xx
  };
  Kind kind = transient;
  int http_status = 0;  // 429 marks a rate limit: the gateway is healthy, only busy
  std::optional<std::chrono::microseconds> retry_after;  // the provider asked to wait this long
};

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{300000};
};

// What happens to the message after an attempt, and what the attempt says about the gateway.
struct AttemptVerdict {
  enum Next {
    sent,      // done
    failed,    // done: refused, or opted out (record the opt-out)
    dead,      // done: a transient failure on the last allowed attempt
    failover,  // again at once, on the chain's next gateway
    retry,     // again after `delay`, on the same gateway
  };
  enum Health { healthy, unhealthy, unknown };  // for the gateway's circuit breaker
  Next next = retry;
  Health gateway = unknown;
  std::chrono::microseconds delay{0};  // retry only
  std::size_t next_route = 0;          // failover only: index in the channel's chain
};

// attempt: the 1-based number of the attempt just made; route_index / chain_size: where it
// was made in the channel's failover chain. A rate limit (429) waits on the same gateway; any
// other transient failure moves to the next gateway when the chain has one, and otherwise
// waits a full-jitter backoff (at least retry_after).
AttemptVerdict judge_attempt(const AttemptAnswer& answer, int attempt, std::size_t route_index, std::size_t chain_size,
                             const RetryPolicy& policy, double random01);

}  // namespace herald::rules

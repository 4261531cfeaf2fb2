// Choosing a gateway per leased message and turning send results into outbox updates.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "herald/engine/config.hpp"
#include "herald/rules/delivery_policy.hpp"
#include "herald/store/outbox.hpp"

namespace herald::engine {

// Owns the per-gateway rate limits and circuit breakers of one instance. Several dispatch
// workers call handle() at once: each gateway's bucket and breaker sit behind their own small
// lock, taken only to pick a gateway or record an answer, never across a send.
class Dispatcher {
 public:
  Dispatcher(DispatchConfig config, std::map<Channel, std::vector<GatewaySlot>> routes);

  // Of the given message ids, those whose lease this instance still holds (renewed) and may
  // be sent, those still held whose address opted out, and whether a message of a lane above
  // the given one waits (store::check_before_send).
  using LeaseCheck = std::function<store::SendCheck(const std::vector<std::int64_t>&, Lane)>;
  using SteadyTime = std::chrono::steady_clock::time_point;

  // Sends what can be sent now and returns one update per claimed message, except those whose
  // lease was lost before their send (they belong to whoever holds them now). Each gateway's
  // share of the batch is sent concurrently with the others', so a slow provider holds up only
  // its own messages. `leased_at`: when the batch was claimed. Before each chunk but a first
  // one sent right after the claim, `still_leased` (when given) says which messages may go;
  // a message claimed or checked as opted out is suppressed (`opted_out`), never sent. When
  // the check finds a higher lane than the chunk's due (a verification code behind a storm's
  // outage texts), the rest of the batch goes back to the queue unsent, due now, so the next
  // claim takes the higher lane first instead of waiting for the whole batch.
  std::vector<store::MessageUpdate> handle(const std::vector<store::ClaimedMessage>& claimed, TimePoint now,
                                           const LeaseCheck& still_leased = {},
                                           SteadyTime leased_at = std::chrono::steady_clock::now());

  // For tests: make backoff deterministic. Set before the dispatcher is shared.
  void set_random(std::function<double()> random01) { random01_ = std::move(random01); }

 private:
  struct Route {
    Route(GatewaySlot s, rules::TokenBucket b, rules::CircuitBreaker c)
        : slot(std::move(s)), bucket(std::move(b)), breaker(std::move(c)) {}
    const GatewaySlot slot;
    std::mutex mu;  // guards bucket and breaker
    rules::TokenBucket bucket;
    rules::CircuitBreaker breaker;
  };
  using Chain = std::vector<std::unique_ptr<Route>>;
  struct Pick {
    Route* route = nullptr;
    std::size_t index = 0;
  };

  const Chain* chain(Channel channel) const;
  Pick pick(Channel channel, const std::string& preferred, TimePoint now, std::chrono::microseconds& wait);
  store::MessageUpdate outcome(const store::ClaimedMessage& c, const gateways::SendResult& r, std::size_t route_index,
                               TimePoint now);
  // Sends one gateway's messages in chunks until half the lease is spent; appends one update
  // per message still leased.
  void send_group(Channel channel, std::size_t route_index, const std::vector<const store::ClaimedMessage*>& members,
                  TimePoint now, SteadyTime leased_at, const LeaseCheck& still_leased,
                  std::vector<store::MessageUpdate>& updates);
  double random01();

  const DispatchConfig config_;
  std::map<Channel, Chain> routes_;  // built once; only the routes' buckets and breakers change
  std::function<double()> random01_;
};

}  // namespace herald::engine

// Choosing a gateway per leased message and turning send results into outbox updates.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "herald/engine/engine.hpp"
#include "herald/rules/delivery_policy.hpp"
#include "herald/store/outbox.hpp"

namespace herald::engine {

// Owns the per-gateway rate limits and circuit breakers of one instance. Used from the
// dispatch thread only.
class Dispatcher {
 public:
  Dispatcher(DispatchConfig config, std::map<Channel, std::vector<GatewaySlot>> routes);

  // Sends what can be sent now and returns one update per claimed message.
  std::vector<store::MessageUpdate> handle(const std::vector<store::ClaimedMessage>& claimed, TimePoint now);

  // For tests: make backoff deterministic.
  void set_random(std::function<double()> random01) { random01_ = std::move(random01); }

 private:
  struct Route {
    GatewaySlot slot;
    rules::TokenBucket bucket;
    rules::CircuitBreaker breaker;
  };
  struct Pick {
    Route* route = nullptr;
    std::size_t index = 0;
  };

  Pick pick(Channel channel, const std::string& preferred, TimePoint now, std::chrono::microseconds& wait);
  store::MessageUpdate outcome(const store::ClaimedMessage& c, const gateways::SendResult& r, std::size_t route_index,
                               TimePoint now);

  DispatchConfig config_;
  std::map<Channel, std::vector<std::unique_ptr<Route>>> routes_;
  std::function<double()> random01_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace herald::engine

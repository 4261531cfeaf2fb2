// Dispatch decisions: rate limits, circuit breakers, failover, retries with full-jitter backoff.
#include "herald/engine/dispatcher.hpp"

#include <algorithm>

#include "herald/domain/metrics.hpp"

namespace herald::engine {

namespace {

std::chrono::microseconds max_wait() { return std::chrono::hours(24); }

// Messages handed to a gateway per send_batch call.
constexpr std::size_t kSendChunk = 250;

gateways::OutboundMessage outbound(const Message& m, const DispatchConfig& config) {
  gateways::OutboundMessage o;
  o.id = m.id;
  o.channel = m.channel;
  o.to = m.address;
  o.subject = m.subject;
  o.body = m.body;
  o.html = m.html;
  o.unsubscribe_url = m.unsubscribe_url;
  if (m.channel == Channel::sms) o.status_callback_url = config.status_callback_url;
  o.idempotency_key = "herald-" + std::to_string(m.id);
  return o;
}

store::MessageUpdate base_update(const Message& m) {
  store::MessageUpdate u;
  u.id = m.id;
  u.channel = m.channel;
  u.address = m.address;
  u.status = MessageStatus::sending;
  return u;
}

metrics::Counter& dispatched(Channel channel, const std::string& gateway, std::string_view outcome) {
  return metrics::Registry::global().counter("herald_messages_dispatched_total",
                                             "Send outcomes by channel, gateway and outcome",
                                             {{"channel", std::string(to_string(channel))},
                                              {"gateway", gateway},
                                              {"outcome", std::string(outcome)}});
}

}  // namespace

Dispatcher::Dispatcher(DispatchConfig config, std::map<Channel, std::vector<GatewaySlot>> routes)
    : config_(std::move(config)) {
  for (auto& [channel, slots] : routes)
    for (auto& slot : slots)
      routes_[channel].push_back(std::make_unique<Route>(
          Route{slot, rules::TokenBucket(slot.rate_per_second, std::max(1.0, slot.burst)),
                rules::CircuitBreaker(config_.breaker_failures, config_.breaker_open)}));
  random01_ = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); };
}

Dispatcher::Pick Dispatcher::pick(Channel channel, const std::string& preferred, TimePoint now,
                                  std::chrono::microseconds& wait) {
  auto it = routes_.find(channel);
  if (it == routes_.end() || it->second.empty()) return {};
  auto& chain = it->second;
  std::size_t start = 0;
  for (std::size_t i = 0; i < chain.size(); ++i)
    if (chain[i]->slot.gateway->name() == preferred) start = i;
  wait = max_wait();
  for (std::size_t k = 0; k < chain.size(); ++k) {
    const auto i = (start + k) % chain.size();
    auto& route = *chain[i];
    if (!route.breaker.allow(now)) {
      wait = std::min<std::chrono::microseconds>(wait, config_.breaker_open);
      continue;
    }
    if (!route.bucket.try_take(now)) {
      wait = std::min(wait, route.bucket.wait_time(now));
      continue;
    }
    return {&route, i};
  }
  return {};
}

store::MessageUpdate Dispatcher::outcome(const store::ClaimedMessage& c, const gateways::SendResult& r,
                                         std::size_t route_index, TimePoint now) {
  const auto& m = c.message;
  auto& chain = routes_[m.channel];
  auto& route = *chain[route_index];
  const auto& gateway = route.slot.gateway->name();
  auto u = base_update(m);
  u.attempted = true;
  u.attempt = m.attempts + 1;
  u.gateway = gateway;
  u.started_at = now;
  u.duration_ms = static_cast<int>(r.duration_ms);
  u.http_status = r.http_status;
  u.error_code = r.error_code;
  u.detail = r.detail;
  u.provider_id = r.provider_id;

  switch (r.outcome) {
    case gateways::SendOutcome::sent:
      route.breaker.record_success();
      u.status = MessageStatus::sent;
      u.outcome = store::AttemptOutcome::sent;
      dispatched(m.channel, gateway, "sent").inc();
      return u;
    case gateways::SendOutcome::opted_out:
      u.provider_opt_out = true;
      [[fallthrough]];
    case gateways::SendOutcome::failed:
      // The provider answered: it is healthy even though this message is refused.
      route.breaker.record_success();
      u.status = MessageStatus::failed;
      u.outcome = store::AttemptOutcome::failed;
      u.last_error = r.error_code.empty() ? r.detail : r.error_code + ": " + r.detail;
      dispatched(m.channel, gateway, "failed").inc();
      return u;
    case gateways::SendOutcome::retry:
      break;
  }

  const bool rate_limited = r.http_status == 429;
  if (!rate_limited) route.breaker.record_failure(now);
  u.last_error = r.error_code.empty() ? r.detail : r.error_code + ": " + r.detail;
  if (u.attempt >= config_.max_attempts) {
    u.status = MessageStatus::failed;
    u.outcome = store::AttemptOutcome::failed;
    u.last_error = "gave up after " + std::to_string(u.attempt) + " attempts: " + u.last_error;
    dispatched(m.channel, gateway, "dead").inc();
    return u;
  }
  if (!rate_limited && chain.size() > 1) {
    // Another gateway may do better right away; the failed one's breaker keeps count.
    u.outcome = store::AttemptOutcome::failover;
    u.next_gateway = chain[(route_index + 1) % chain.size()]->slot.gateway->name();
    u.due_at = now;
    dispatched(m.channel, gateway, "failover").inc();
    return u;
  }
  auto delay = std::chrono::duration_cast<std::chrono::microseconds>(
      rules::full_jitter_backoff(u.attempt, config_.backoff_base, config_.backoff_cap, random01_()));
  if (r.retry_after) delay = std::max<std::chrono::microseconds>(delay, *r.retry_after);
  u.outcome = store::AttemptOutcome::retry;
  u.due_at = now + delay;
  dispatched(m.channel, gateway, "retry").inc();
  return u;
}

std::vector<store::MessageUpdate> Dispatcher::handle(const std::vector<store::ClaimedMessage>& claimed, TimePoint now) {
  std::vector<store::MessageUpdate> updates;
  updates.reserve(claimed.size());
  // Messages grouped by (channel, route index) so each gateway gets one concurrent batch.
  std::map<std::pair<Channel, std::size_t>, std::vector<const store::ClaimedMessage*>> groups;

  for (const auto& c : claimed) {
    const auto& m = c.message;
    if (c.expired) {
      auto u = base_update(m);
      u.status = MessageStatus::suppressed;
      u.suppression_reason = "expired";
      updates.push_back(std::move(u));
      continue;
    }
    std::chrono::microseconds wait{};
    const auto p = pick(m.channel, m.gateway, now, wait);
    if (!p.route) {
      auto u = base_update(m);
      if (!routes_.count(m.channel) || routes_[m.channel].empty()) {
        u.status = MessageStatus::failed;
        u.last_error = "no gateway configured for channel " + std::string(to_string(m.channel));
      } else {
        // Rate limit or open circuit: look again later without counting an attempt.
        u.due_at = now + std::max(wait, std::chrono::microseconds(1000));
        u.gateway = m.gateway;
      }
      updates.push_back(std::move(u));
      continue;
    }
    groups[{m.channel, p.index}].push_back(&c);
  }

  // Sends go out in chunks; once half the lease is spent the rest waits for the next round,
  // so a slow provider cannot hold messages past their lease (another instance would then
  // send them too).
  const auto deadline = std::chrono::steady_clock::now() + config_.lease / 2;
  for (const auto& [key, members] : groups) {
    auto& route = *routes_[key.first][key.second];
    for (std::size_t begin = 0; begin < members.size(); begin += kSendChunk) {
      const auto end = std::min(members.size(), begin + kSendChunk);
      if (std::chrono::steady_clock::now() >= deadline) {
        for (std::size_t i = begin; i < end; ++i) {
          auto u = base_update(members[i]->message);
          u.gateway = members[i]->message.gateway;
          u.due_at = now;
          updates.push_back(std::move(u));
        }
        continue;
      }
      std::vector<gateways::OutboundMessage> batch;
      batch.reserve(end - begin);
      for (std::size_t i = begin; i < end; ++i) batch.push_back(outbound(members[i]->message, config_));
      const auto results = route.slot.gateway->send_batch(batch);
      for (std::size_t i = begin; i < end; ++i) {
        gateways::SendResult r;
        if (i - begin < results.size()) {
          r = results[i - begin];
        } else {
          r.outcome = gateways::SendOutcome::retry;
          r.detail = "gateway returned no result";
        }
        updates.push_back(outcome(*members[i], r, key.second, now));
      }
    }
  }
  return updates;
}

}  // namespace herald::engine

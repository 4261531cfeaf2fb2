// Dispatch decisions: rate limits, circuit breakers, failover, retries with full-jitter backoff.
#include "herald/engine/dispatcher.hpp"

#include <algorithm>
#include <future>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

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
  if (m.channel == Channel::voice) {
    // Twilio signs these URLs with their query: the message id cannot be changed on the way back.
    o.status_callback_url = config.status_callback_url;
    if (!config.voice_url.empty()) o.voice_url = config.voice_url + "?message=" + std::to_string(m.id);
  }
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

// A message whose address opted out after it was queued: suppressed, never sent.
store::MessageUpdate opted_out_update(const Message& m) {
  auto u = base_update(m);
  u.status = MessageStatus::suppressed;
  u.suppression_reason = "opted_out";
  return u;
}

std::string error_text(const gateways::SendResult& r) {
  return r.error_code.empty() ? r.detail : r.error_code + ": " + r.detail;
}

rules::AttemptAnswer answer_of(const gateways::SendResult& r) {
  rules::AttemptAnswer a;
  switch (r.outcome) {
    case gateways::SendOutcome::sent: a.kind = rules::AttemptAnswer::accepted; break;
    case gateways::SendOutcome::failed: a.kind = rules::AttemptAnswer::refused; break;
    case gateways::SendOutcome::opted_out: a.kind = rules::AttemptAnswer::opted_out; break;
    case gateways::SendOutcome::retry: a.kind = rules::AttemptAnswer::transient; break;
  }
  a.http_status = r.http_status;
  if (r.retry_after) a.retry_after = std::chrono::duration_cast<std::chrono::microseconds>(*r.retry_after);
  return a;
}

metrics::Counter& dispatched(Channel channel, const std::string& gateway, std::string_view outcome) {
  return metrics::Registry::global().counter("herald_messages_dispatched_total",
                                             "Send outcomes by channel, gateway and outcome",
                                             {{"channel", std::string(to_string(channel))},
                                              {"gateway", gateway},
                                              {"outcome", std::string(outcome)}});
}

metrics::Counter& lease_lost() {
  return metrics::Registry::global().counter("herald_dispatch_lease_lost_total",
                                             "Leased messages not sent because their lease lapsed first", {});
}

metrics::Counter& handed_back() {
  return metrics::Registry::global().counter("herald_dispatch_yielded_total",
                                             "Leased messages handed back unsent because a higher lane was due", {});
}

}  // namespace

Dispatcher::Dispatcher(DispatchConfig config, std::map<Channel, std::vector<GatewaySlot>> routes)
    : config_(std::move(config)) {
  for (auto& [channel, slots] : routes)
    for (auto& slot : slots)
      routes_[channel].push_back(std::make_unique<Route>(slot,
                                                         rules::TokenBucket(slot.rate_per_second, std::max(1.0, slot.burst)),
                                                         rules::CircuitBreaker(config_.breaker_failures, config_.breaker_open)));
}

double Dispatcher::random01() {
  if (random01_) return random01_();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

const Dispatcher::Chain* Dispatcher::chain(Channel channel) const {
  const auto it = routes_.find(channel);
  return it == routes_.end() || it->second.empty() ? nullptr : &it->second;
}

Dispatcher::Pick Dispatcher::pick(Channel channel, const std::string& preferred, TimePoint now,
                                  std::chrono::microseconds& wait) {
  const auto* routes = chain(channel);
  if (!routes) return {};
  std::size_t start = 0;
  for (std::size_t i = 0; i < routes->size(); ++i)
    if ((*routes)[i]->slot.gateway->name() == preferred) start = i;
  wait = max_wait();
  for (std::size_t k = 0; k < routes->size(); ++k) {
    const auto i = (start + k) % routes->size();
    auto& route = *(*routes)[i];
    std::lock_guard lock(route.mu);
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
  const auto& routes = *chain(m.channel);
  auto& route = *routes[route_index];
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

  const rules::RetryPolicy policy{config_.max_attempts, config_.backoff_base, config_.backoff_cap};
  const auto verdict = rules::judge_attempt(answer_of(r), u.attempt, route_index, routes.size(), policy, random01());
  if (verdict.gateway != rules::AttemptVerdict::unknown) {
    std::lock_guard lock(route.mu);
    if (verdict.gateway == rules::AttemptVerdict::healthy) route.breaker.record_success();
    else route.breaker.record_failure(now);
  }
  switch (verdict.next) {
    case rules::AttemptVerdict::sent:
      u.status = MessageStatus::sent;
      u.outcome = store::AttemptOutcome::sent;
      if (m.channel == Channel::sms) {
        if (auto it = config_.conversations.find(m.type); it != config_.conversations.end())
          u.conversation = {{"expected", rules::expected_json(it->second.replies)},
                            {"ttl_seconds", it->second.ttl.count()}};
      }
      dispatched(m.channel, gateway, "sent").inc();
      break;
    case rules::AttemptVerdict::failed:
      u.provider_opt_out = r.outcome == gateways::SendOutcome::opted_out;
      u.status = MessageStatus::failed;
      u.outcome = store::AttemptOutcome::failed;
      u.last_error = error_text(r);
      dispatched(m.channel, gateway, "failed").inc();
      break;
    case rules::AttemptVerdict::dead:
      u.status = MessageStatus::failed;
      u.outcome = store::AttemptOutcome::failed;
      u.last_error = "gave up after " + std::to_string(u.attempt) + " attempts: " + error_text(r);
      dispatched(m.channel, gateway, "dead").inc();
      break;
    case rules::AttemptVerdict::failover:
      u.outcome = store::AttemptOutcome::failover;
      u.last_error = error_text(r);
      u.next_gateway = routes[verdict.next_route]->slot.gateway->name();
      u.due_at = now;
      dispatched(m.channel, gateway, "failover").inc();
      break;
    case rules::AttemptVerdict::retry:
      u.outcome = store::AttemptOutcome::retry;
      u.last_error = error_text(r);
      u.due_at = now + verdict.delay;
      dispatched(m.channel, gateway, "retry").inc();
      break;
  }
  return u;
}

void Dispatcher::send_group(Channel channel, std::size_t route_index,
                            const std::vector<const store::ClaimedMessage*>& members, TimePoint now,
                            SteadyTime leased_at, const LeaseCheck& still_leased,
                            std::vector<store::MessageUpdate>& updates) {
  auto& route = *(*chain(channel))[route_index];
  // A chunk no larger than what the gateway sends at once: every send of a chunk starts right
  // after the lease check before it, even if this process was frozen in between.
  const auto concurrency = route.slot.gateway->max_concurrent();
  const auto chunk = concurrency > 0 ? std::min(kSendChunk, concurrency) : kSendChunk;
  // Once half the lease is spent the rest waits for the next round, so that the batch in
  // hand never holds its leases for long.
  const auto deadline = leased_at + config_.lease / 2;
  auto checked_at = leased_at;
  for (std::size_t begin = 0; begin < members.size(); begin += chunk) {
    const auto end = std::min(members.size(), begin + chunk);
    const auto started = std::chrono::steady_clock::now();
    if (started >= deadline) {
      for (std::size_t i = begin; i < end; ++i) {
        auto u = base_update(members[i]->message);
        u.gateway = members[i]->message.gateway;
        u.due_at = now;
        updates.push_back(std::move(u));
      }
      continue;
    }
    std::vector<const store::ClaimedMessage*> sending(members.begin() + static_cast<std::ptrdiff_t>(begin),
                                                      members.begin() + static_cast<std::ptrdiff_t>(end));
    // The claim itself checked the first chunk, unless it is already a while ago.
    if (still_leased && (begin > 0 || started - checked_at >= config_.lease / 4)) {
      std::vector<std::int64_t> ids;
      ids.reserve(sending.size());
      for (const auto* c : sending) ids.push_back(c->message.id);
      const auto check = still_leased(ids, sending.front()->lane);
      checked_at = started;
      if (check.higher_lane_due || check.stopping) {
        handed_back().inc(static_cast<double>(members.size() - begin));
        for (std::size_t i = begin; i < members.size(); ++i) {
          auto u = base_update(members[i]->message);
          u.gateway = members[i]->message.gateway;
          u.due_at = now;
          updates.push_back(std::move(u));
        }
        return;
      }
      const std::set<std::int64_t> kept(check.leased.begin(), check.leased.end());
      const std::set<std::int64_t> opted_out(check.opted_out.begin(), check.opted_out.end());
      // Opted out since the claim: still ours, ended here so that the record removes them.
      std::erase_if(sending, [&](const auto* c) {
        if (!opted_out.count(c->message.id)) return false;
        updates.push_back(opted_out_update(c->message));
        return true;
      });
      const auto lost = std::erase_if(sending, [&](const auto* c) { return !kept.count(c->message.id); });
      if (lost > 0) {
        lease_lost().inc(static_cast<double>(lost));
        spdlog::warn("dispatch: {} messages lost their lease before sending; left to their new holder", lost);
      }
      if (sending.empty()) continue;
    }
    std::vector<gateways::OutboundMessage> batch;
    batch.reserve(sending.size());
    for (const auto* c : sending) batch.push_back(outbound(c->message, config_));
    const auto results = route.slot.gateway->send_batch(batch);
    for (std::size_t i = 0; i < sending.size(); ++i) {
      gateways::SendResult r;
      if (i < results.size()) {
        r = results[i];
      } else {
        r.outcome = gateways::SendOutcome::retry;
        r.detail = "gateway returned no result";
      }
      updates.push_back(outcome(*sending[i], r, route_index, now));
    }
  }
}

std::vector<store::MessageUpdate> Dispatcher::handle(const std::vector<store::ClaimedMessage>& claimed, TimePoint now,
                                                     const LeaseCheck& still_leased, SteadyTime leased_at) {
  std::vector<store::MessageUpdate> updates;
  updates.reserve(claimed.size());
  // Messages grouped by (channel, route index) so each gateway gets one concurrent batch.
  std::map<std::pair<Channel, std::size_t>, std::vector<const store::ClaimedMessage*>> groups;

  for (const auto& c : claimed) {
    const auto& m = c.message;
    if (!c.unreadable.empty()) {
      auto u = base_update(m);
      u.status = MessageStatus::failed;
      u.last_error = "message row cannot be read: " + c.unreadable;
      updates.push_back(std::move(u));
      continue;
    }
    if (c.opted_out) {
      updates.push_back(opted_out_update(m));
      continue;
    }
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
      if (!chain(m.channel)) {
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

  // Each gateway's group on its own thread (the first on this one): a provider stuck on slow
  // answers does not delay what the others could send now.
  std::vector<std::vector<store::MessageUpdate>> group_updates(groups.size());
  std::vector<std::future<void>> others;
  std::size_t g = 0;
  for (const auto& group : groups) {
    auto& out = group_updates[g++];
    if (g == 1) continue;
    others.push_back(std::async(std::launch::async, [this, &group, &out, now, leased_at, &still_leased] {
      send_group(group.first.first, group.first.second, group.second, now, leased_at, still_leased, out);
    }));
  }
  if (!groups.empty()) {
    const auto& group = *groups.begin();
    send_group(group.first.first, group.first.second, group.second, now, leased_at, still_leased, group_updates[0]);
  }
  for (auto& f : others) f.get();
  for (auto& part : group_updates)
    for (auto& u : part) updates.push_back(std::move(u));
  return updates;
}

}  // namespace herald::engine

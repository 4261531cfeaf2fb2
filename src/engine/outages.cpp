// Outage notices: judged per outage, rendered per language and time zone, fanned out by the store.
#include "herald/engine/outages.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "herald/domain/json_io.hpp"
#include "herald/domain/sms_encoding.hpp"
#include "herald/rules/context.hpp"
#include "herald/rules/send_window.hpp"

namespace herald::engine {

namespace {

// The store substitutes each recipient's service address for this (outage_fanout.cpp).
constexpr std::string_view kAddressPlaceholder = "@@HERALD_ADDRESS@@";

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string without_placeholder(std::string s, int& count) {
  count = 0;
  for (auto p = s.find(kAddressPlaceholder); p != std::string::npos; p = s.find(kAddressPlaceholder, p)) {
    s.erase(p, kAddressPlaceholder.size());
    ++count;
  }
  return s;
}

rules::OutageNoticeState state_of(const store::DueOutage& d) {
  rules::OutageNoticeState s;
  s.status = d.outage.status;
  s.kind = d.outage.kind;
  s.etr = d.outage.etr;
  s.planned_start = d.outage.planned_start;
  s.notified_status = d.notified_status;
  s.notified_etr = d.notified_etr;
  s.last_notice_at = d.last_notice_at;
  s.planned_notice_sent = d.planned_notice_sent;
  s.planned_reminder_sent = d.planned_reminder_sent;
  return s;
}

store::DueOutage with_state(store::DueOutage d, const rules::OutageNoticeState& s) {
  d.notified_status = s.notified_status;
  d.notified_etr = s.notified_etr;
  d.last_notice_at = s.last_notice_at;
  d.planned_notice_sent = s.planned_notice_sent;
  d.planned_reminder_sent = s.planned_reminder_sent;
  return d;
}

store::RecipientDefaults defaults_of(const rules::RulesConfig& rules) {
  return {rules.default_preferences, rules.default_language};
}

// Judges one due outage; false when none was due.
bool review_one(store::Database& db, const OutageConfig& config, const rules::RulesConfig& rules,
                const rules::TemplateStore& templates, TimePoint now) {
  auto review = store::OutageReview::open(db, now);
  if (!review) return false;
  const auto& due = review->outage();
  const auto state = state_of(due);
  const auto plan = rules::plan_outage_notice(state, config.notices, now);
  if (!plan.notice) {
    review->finish(std::nullopt, due, plan.next_due, now);
    return true;
  }
  const auto groups = review->recipient_groups(defaults_of(rules));
  store::NewOutageNotice notice;
  notice.kind = *plan.notice;
  notice.type = rules::outage_notice_type(notice.kind);
  notice.texts = render_outage_notice(due, notice.kind, groups, rules, templates, now);
  const auto told = rules::after_notice(state, notice.kind, now, config.notices);
  auto next = rules::plan_outage_notice(told, config.notices, now);
  // A notice still called for right after this one is looked at again at once, next round.
  if (next.notice) next.next_due = now;
  spdlog::info("outage {}: {} notice for {} recipient groups", due.outage.outage_id, notice.kind, groups.size());
  review->finish(notice, with_state(due, told), next.next_due, now);
  return true;
}

}  // namespace

Json render_outage_notice(const store::DueOutage& outage, const std::string& notice,
                          const std::vector<store::RecipientGroup>& groups, const rules::RulesConfig& rules,
                          const rules::TemplateStore& templates, TimePoint now) {
  const auto type = rules::outage_notice_type(notice);
  EventTypeRule rule;
  if (auto found = rules.types.find(type); found != rules.types.end()) rule = found->second;
  rule.topic = Topic::outage;

  Event event;
  event.event_id = "outage:" + outage.outage.outage_id;
  event.type = type;
  event.occurred_at = now;
  event.data = {{"outage_id", outage.outage.outage_id}, {"status", outage.outage.status}};
  if (!outage.outage.cause.empty()) event.data["cause"] = outage.outage.cause;
  if (outage.outage.etr) event.data["etr"] = format_time(*outage.outage.etr);
  if (outage.outage.planned_start) event.data["planned_start"] = format_time(*outage.outage.planned_start);
  if (outage.outage.planned_end) event.data["planned_end"] = format_time(*outage.outage.planned_end);

  const auto expires_at = now + rule.ttl;
  Json texts = Json::array(), times = Json::array();
  std::set<std::pair<std::string, std::string>> rendered;  // (language, time zone)
  std::set<std::tuple<std::string, bool, int, int>> timed;
  for (const auto& g : groups) {
    if (!is_known_time_zone(g.timezone)) continue;
    if (rendered.emplace(g.language, g.timezone).second) {
      RecipientContext r;
      r.account.timezone = g.timezone;
      r.account.service_address.line1 = std::string(kAddressPlaceholder);
      r.preferences.language = g.language;
      const rules::TemplateData data(rules::template_context(event, r, rules, g.language));
      for (Channel channel : kAllChannels) {
        auto out = templates.render_prepared(type, channel, g.language, rules.default_language, data);
        if (!out) continue;  // no template: nobody on this channel hears (check-config names it)
        Json text = {{"language", g.language},
                     {"timezone", g.timezone},
                     {"channel", std::string(to_string(channel))},
                     {"rendered_language", out->language},
                     {"subject", out->subject},
                     {"body", out->body},
                     {"html", out->html},
                     {"gsm", false},
                     {"units", 0},
                     {"placeholders", 0},
                     {"exact", false}};
        if (channel == Channel::sms) {
          int placeholders = 0;
          const auto fixed = without_placeholder(out->body, placeholders);
          const auto info = sms_encoding(fixed);
          text["gsm"] = info.encoding == "GSM-7";
          text["units"] = info.units;
          text["placeholders"] = placeholders;
          // One unit per character: no escape or surrogate pair, so counting is arithmetic.
          text["exact"] = static_cast<std::size_t>(info.units) == code_points(fixed);
        }
        texts.push_back(std::move(text));
      }
    }
    const auto& qh = g.quiet_hours;
    if (!timed.emplace(g.timezone, qh.enabled, qh.start.minutes, qh.end.minutes).second) continue;
    const auto send_at = rules::earliest_send_time(now, g.timezone, qh, rules.window, rule.urgent);
    Json explanation = {{"chosen_by", "preference"},
                        {"time_zone", g.timezone},
                        {"local_time", rules::local_time_string(now, g.timezone)},
                        {"consent", "opted_in"},
                        {"outage", {{"outage_id", outage.outage.outage_id}, {"notice", notice}}}};
    if (rule.urgent) explanation["rule"] = {{"urgent", true}};
    std::string status = send_at > now ? "scheduled" : "queued";
    if (expires_at <= send_at) status = "suppressed";
    if (status != "queued") {
      explanation["send_at_local"] = rules::local_time_string(send_at, g.timezone);
      explanation["quiet_hours"] = {
          {"enabled", qh.enabled}, {"start", format_local_time(qh.start)}, {"end", format_local_time(qh.end)}};
      explanation["window"] = {{"start", format_local_time(rules.window.start)},
                               {"end", format_local_time(rules.window.end)}};
    }
    explanation["reason"] = status == "queued"      ? "send_now"
                            : status == "scheduled" ? "held_until_allowed_time"
                                                    : "expired";
    times.push_back({{"timezone", g.timezone},
                     {"quiet_enabled", qh.enabled},
                     {"quiet_start", qh.start.minutes},
                     {"quiet_end", qh.end.minutes},
                     {"status", status},
                     {"not_before", format_time(send_at)},
                     {"explanation", std::move(explanation)}});
  }
  return {{"type", type},
          {"priority", rule.priority},
          {"urgent", rule.urgent},
          {"expires_at", format_time(expires_at)},
          {"replaces", outage.told_before},
          {"texts", std::move(texts)},
          {"times", std::move(times)}};
}

std::size_t outage_step(store::Database& db, const OutageConfig& config, const rules::RulesConfig& rules,
                        const rules::TemplateStore& templates, TimePoint now, std::size_t batch) {
  std::size_t work = store::apply_outage_events(db, batch, now);
  while (review_one(db, config, rules, templates, now)) ++work;
  const auto chunk = store::run_notice_chunk(db, config.chunk_accounts, defaults_of(rules), now);
  if (chunk.pending) {
    ++work;
    spdlog::debug("outage fan-out: {} accounts, {} messages created, {} replaced{}", chunk.accounts, chunk.created,
                  chunk.replaced, chunk.notice_done ? ", notice done" : "");
  }
  return work;
}

}  // namespace herald::engine

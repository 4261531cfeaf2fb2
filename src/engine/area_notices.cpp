// Area notices: the rules' part of a fan-out, worked out once per time zone and per language, never per recipient.
#include "herald/engine/area_notices.hpp"

#include <map>

#include "herald/domain/json_io.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/domain/sms_encoding.hpp"
#include "herald/rules/area_notice.hpp"
#include "herald/rules/context.hpp"
#include "herald/rules/event_data.hpp"
#include "herald/rules/lanes.hpp"
#include "herald/rules/send_window.hpp"

namespace herald::engine {

namespace {

// The padded HMAC-SHA256 key XORed with ipad and opad (RFC 2104), for signing in SQL.
void hmac_keys(const std::string& secret, std::string& inner, std::string& outer) {
  std::string key = secret;
  if (key.size() > 64) {
    const auto hex = sha256_hex(key);
    key.clear();
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) key += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  key.resize(64, '\0');
  inner = outer = key;
  for (std::size_t i = 0; i < 64; ++i) {
    inner[i] = static_cast<char>(key[i] ^ 0x36);
    outer[i] = static_cast<char>(key[i] ^ 0x5c);
  }
}

// The template context with the recipient's own fields as sentinels.
Json sentinel_context(const Event& e, const rules::RulesConfig& cfg, const std::string& language) {
  namespace f = store::area_field;
  RecipientContext r;
  Json ctx = rules::template_context(e, r, cfg, language);
  ctx["customer"] = {{"id", f::kCustomerId}, {"name", f::kName}, {"first_name", f::kFirstName}};
  auto& account = ctx["account"];
  account["id"] = f::kAccountId;
  account["id_masked"] = f::kAccountMasked;
  account["last4"] = f::kAccountLast4;
  account["service_address"] = {{"line1", f::kLine1}, {"line2", f::kLine2}, {"city", f::kCity},
                                {"state", f::kState}, {"zip", f::kZip},     {"one_line", f::kOneLine}};
  return ctx;
}

}  // namespace

store::AreaNoticeRules area_notice_rules(const rules::RulesConfig& cfg, const rules::TemplateStore& templates,
                                         const rules::LaneOverrides& lanes, TimePoint now) {
  store::AreaNoticeRules out;
  out.query = [&cfg](const Event& e) -> Result<store::AreaQuery> {
    const auto rule = cfg.types.find(e.type);
    if (rule == cfg.types.end()) return invalid("type", "unknown_event_type", "unknown event type '" + e.type + "'");
    if (auto bad = rules::validate_event_data(e.data, rule->second)) return *bad;
    auto target = rules::parse_area_target(e.data);
    if (!target) return target.error();
    store::AreaQuery q;
    q.zips = std::move(target->zips);
    q.feeders = std::move(target->feeders);
    q.segments = std::move(target->segments);
    q.premise_ids = std::move(target->premise_ids);
    q.topic = rule->second.topic;
    q.defaults = cfg.default_preferences;
    q.default_language = cfg.default_language;
    return q;
  };
  out.plan = [&cfg, &templates, &lanes, now](const Event& e, const store::AreaSummary& summary) {
    const auto& rule = cfg.types.at(e.type);
    store::AreaPlan plan;
    plan.urgent = rules::event_urgent(e, rule);
    plan.lane = rules::event_lane(e, rule, lanes);
    plan.priority = rule.priority;
    const TimePoint occurred = e.occurred_at == TimePoint{} ? now : e.occurred_at;
    plan.expires_at = occurred + rule.ttl;
    plan.decision = {{"chosen_by", "preference"}, {"area_notice", true}};
    if (plan.urgent) plan.decision["rule"] = {{"urgent", true}};

    for (const auto& key : summary.timings) {
      store::AreaTiming t;
      t.key = key;
      if (!is_known_time_zone(key.timezone)) {
        t.reason = "invalid_timezone";
      } else {
        const auto send_at = rules::earliest_send_time(now, key.timezone, key.quiet_hours, cfg.window, plan.urgent);
        if (*plan.expires_at <= send_at) t.reason = "expired";
        else t.send_at = send_at;
      }
      plan.timings.push_back(std::move(t));
    }

    const bool links = cfg.public_urls && cfg.token_secret;
    if (links) {
      plan.unsubscribe.prefix = cfg.public_urls->unsubscribe("");
      hmac_keys(cfg.token_secret->value, plan.unsubscribe.inner_key, plan.unsubscribe.outer_key);
      plan.unsubscribe.expires_unix = to_unix_seconds(now + cfg.unsubscribe_token_ttl);
    } else {
      plan.unsubscribe.inner_key = plan.unsubscribe.outer_key = std::string(64, '\0');
    }
    std::map<std::string, rules::TemplateData> contexts;
    for (const auto& [language, channel] : summary.texts) {
      auto ctx = contexts.find(language);
      if (ctx == contexts.end())
        ctx = contexts.emplace(language, rules::TemplateData(sentinel_context(e, cfg, language))).first;
      std::vector<std::pair<std::string, std::string>> extra;
      if (channel == Channel::email) extra.emplace_back("unsubscribe_url", links ? store::area_field::kUnsubscribeUrl : "");
      store::AreaText text;
      text.language = language;
      text.channel = channel;
      auto rendered = templates.render_prepared(e.type, channel, language, cfg.default_language, ctx->second, extra);
      if (!rendered) {
        text.reason = "no_template";
        text.rendered_language = language;
      } else {
        text.rendered_language = rendered->language;
        text.subject = std::move(rendered->subject);
        text.body = std::move(rendered->body);
        text.html = std::move(rendered->html);
        if (channel == Channel::sms) {
          const auto info = sms_encoding(text.body);
          text.segments = info.segments;
          text.encoding = info.encoding;
        }
      }
      plan.texts.push_back(std::move(text));
    }
    return plan;
  };
  return out;
}

}  // namespace herald::engine

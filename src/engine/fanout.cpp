// The shared fan-out's rules part: texts rendered per group and channel with sentinels, timings per group.
#include "herald/engine/fanout.hpp"

#include <map>
#include <set>
#include <tuple>

#include "herald/domain/json_io.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/domain/sms_encoding.hpp"
#include "herald/rules/context.hpp"
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

// The template context of a group with the recipient's own fields as sentinels.
Json sentinel_context(const Event& e, const rules::RulesConfig& cfg, const store::FanoutGroup& g, bool known_zone) {
  namespace f = store::fanout_field;
  RecipientContext r;
  r.account.timezone = known_zone ? g.timezone : "UTC";
  r.preferences.language = g.language;
  Json ctx = rules::template_context(e, r, cfg, g.language);
  ctx["customer"] = {{"id", f::kCustomerId}, {"name", f::kName}, {"first_name", f::kFirstName}};
  auto& account = ctx["account"];
  account["id"] = f::kAccountId;
  account["id_masked"] = f::kAccountMasked;
  account["last4"] = f::kAccountLast4;
  account["service_address"] = {{"line1", f::kLine1}, {"line2", f::kLine2}, {"city", f::kCity},
                                {"state", f::kState}, {"zip", f::kZip},     {"one_line", f::kOneLine}};
  return ctx;
}

// The text with every sentinel taken out: what is fixed whatever a recipient's values are.
std::string without_sentinels(std::string s) {
  for (auto p = s.find("@@herald:"); p != std::string::npos; p = s.find("@@herald:", p)) {
    const auto end = s.find("@@", p + 9);
    if (end == std::string::npos) break;
    s.erase(p, end + 2 - p);
  }
  return s;
}

}  // namespace

store::FanoutSigning fanout_signing(const rules::RulesConfig& cfg, TimePoint now) {
  store::FanoutSigning s;
  if (cfg.public_urls && cfg.token_secret) {
    s.prefix = cfg.public_urls->unsubscribe("");
    hmac_keys(cfg.token_secret->value, s.inner_key, s.outer_key);
    s.expires_unix = to_unix_seconds(now + cfg.unsubscribe_token_ttl);
  }
  return s;
}

store::FanoutPlan plan_fanout(const FanoutNotice& notice, const std::vector<store::FanoutGroup>& groups,
                              const rules::RulesConfig& cfg, const rules::TemplateStore& templates, TimePoint now) {
  store::FanoutPlan plan;
  plan.type = notice.event.type;
  plan.priority = notice.priority;
  plan.urgent = notice.urgent;
  plan.lane = notice.lane;
  plan.expires_at = notice.expires_at;
  plan.decision = notice.decision;
  const bool links = cfg.public_urls && cfg.token_secret;

  std::set<std::pair<std::string, std::string>> rendered;  // (language, time zone)
  std::set<std::tuple<std::string, bool, int, int>> timed;
  for (const auto& g : groups) {
    const bool known = is_known_time_zone(g.timezone);
    if (rendered.emplace(g.language, g.timezone).second) {
      const rules::TemplateData data(sentinel_context(notice.event, cfg, g, known));
      for (Channel channel : kAllChannels) {
        std::vector<std::pair<std::string, std::string>> extra;
        if (channel == Channel::email) extra.emplace_back("unsubscribe_url", links ? store::fanout_field::kUnsubscribeUrl : "");
        store::FanoutText text;
        text.language = g.language;
        text.timezone = g.timezone;
        text.channel = channel;
        auto out = templates.render_prepared(notice.event.type, channel, g.language, cfg.default_language, data, extra);
        if (!out) {
          text.rendered_language = g.language;
          text.reason = "no_template";
        } else {
          text.rendered_language = out->language;
          text.subject = std::move(out->subject);
          text.body = std::move(out->body);
          text.html = std::move(out->html);
          if (channel == Channel::sms) text.ucs2 = sms_encoding(without_sentinels(text.body)).encoding == "UCS-2";
        }
        plan.texts.push_back(std::move(text));
      }
    }
    const auto& qh = g.quiet_hours;
    if (!timed.emplace(g.timezone, qh.enabled, qh.start.minutes, qh.end.minutes).second) continue;
    store::FanoutTiming t;
    t.timezone = g.timezone;
    t.quiet_hours = qh;
    t.explanation = {{"time_zone", g.timezone}};
    if (!known) {
      t.status = "suppressed";
      t.reason = "invalid_timezone";
      plan.timings.push_back(std::move(t));
      continue;
    }
    const auto send_at = rules::earliest_send_time(now, g.timezone, qh, cfg.window, notice.urgent);
    t.not_before = send_at;
    t.explanation["local_time"] = rules::local_time_string(now, g.timezone);
    t.status = send_at > now ? "scheduled" : "queued";
    if (notice.expires_at <= send_at) t.status = "suppressed";
    if (t.status != "queued") {
      t.explanation["send_at_local"] = rules::local_time_string(send_at, g.timezone);
      t.explanation["quiet_hours"] = {
          {"enabled", qh.enabled}, {"start", format_local_time(qh.start)}, {"end", format_local_time(qh.end)}};
      t.explanation["window"] = {{"start", format_local_time(cfg.window.start)},
                                 {"end", format_local_time(cfg.window.end)}};
    }
    t.reason = t.status == "queued" ? "send_now" : t.status == "scheduled" ? "held_until_allowed_time" : "expired";
    plan.timings.push_back(std::move(t));
  }
  return plan;
}

}  // namespace herald::engine

// The rules engine: channels chosen, contacts and consent checked, text rendered, send time set.
#include "herald/rules/decide.hpp"

#include <algorithm>

#include "herald/domain/json_io.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/domain/sms_encoding.hpp"
#include "herald/rules/context.hpp"
#include "herald/rules/lanes.hpp"

namespace herald::rules {

namespace {

constexpr Seconds kHour{3600};
constexpr Seconds kDay{24 * 3600};

EventTypeRule rule(std::string type, Topic topic, Seconds ttl, int priority = 0, bool urgent = false,
                   bool regulatory = false, std::string expires_at_field = "") {
  EventTypeRule r;
  r.type = std::move(type);
  r.topic = topic;
  r.ttl = ttl;
  r.priority = priority;
  r.urgent = urgent;
  r.regulatory = regulatory;
  r.expires_at_field = std::move(expires_at_field);
  return r;
}

DataField field(DataKind kind, bool required, std::size_t max_length = 512, bool multiline = false) {
  DataField f;
  f.kind = kind;
  f.required = required;
  f.max_length = max_length;
  f.multiline = multiline;
  return f;
}

// The data each type's shipped templates use (config/templates/README.md): a field a template
// prints outside a {{#section}} is required, so no customer reads a blank where it belongs.
void declare_shipped_data(std::map<std::string, EventTypeRule>& types) {
  constexpr bool kRequired = true, kOptional = false;
  using K = DataKind;
  const DataField money = field(K::money, kRequired), date = field(K::date, kRequired);
  const DataField link = field(K::url, kOptional, 2048);
  types["bill.ready"].data = {{"amount_due", money}, {"due_date", date}, {"bill_url", link}};
  types["bill.due_soon"].data = {{"amount_due", money}, {"due_date", date}, {"pay_url", link}};
  types["payment.received"].data = {
      {"amount", money}, {"payment_date", date}, {"confirmation", field(K::text, kOptional, 64)}};
  types["payment.declined"].data = {{"amount", money}, {"reason", field(K::text, kRequired, 200)}, {"pay_url", link}};
  types["payment.scheduled"].data = {{"amount", money}, {"scheduled_date", date}};
  // card_last4: the card on file; with it the SMS offers "Reply Y to pay" (a conversation).
  types["account.past_due"].data = {
      {"amount_due", money}, {"pay_url", link}, {"card_last4", field(K::text, kOptional, 4)}};
  types["disconnection.scheduled"].data = {{"disconnection_date", date}, {"amount_due", money}, {"pay_url", link}};
  types["card.expiring"].data = {{"card_last4", field(K::text, kRequired, 4)},
                                 {"expiry", field(K::text, kRequired, 16)},
                                 {"update_url", link}};
  types["meter.read"].data = {{"reading", field(K::number, kRequired)},
                              {"unit", field(K::text, kRequired, 16)},
                              {"read_date", date},
                              {"usage", field(K::number, kOptional)}};
  types["usage.high"].data = {{"usage", field(K::number, kRequired)},
                              {"unit", field(K::text, kRequired, 16)},
                              {"typical_usage", field(K::number, kRequired)},
                              {"period", field(K::text, kRequired, 64)},
                              {"projected_amount", field(K::money, kOptional)}};
  types["leak.detected"].data = {{"detected_at", field(K::datetime, kRequired)},
                                 {"flow_rate", field(K::text, kOptional, 64)}};
  types["service.order_updated"].data = {{"order_id", field(K::text, kRequired, 128)},
                                         {"status", field(K::text, kRequired, 64)},
                                         {"description", field(K::text, kOptional, 1000, true)}};
  types["appointment.scheduled"].data = {{"appointment_date", date},
                                         {"window", field(K::text, kOptional, 64)},
                                         {"purpose", field(K::text, kOptional, 200)}};
  // The outage's state, as the engine passes it to every notice (all optional: a planned
  // outage has no ETR, a confirmed one no planned_start).
  for (const char* type : {"outage.confirmed", "outage.etr_updated", "outage.crew_assigned", "outage.restored",
                           "outage.planned", "outage.planned_reminder", "outage.cancelled"}) {
    types[type].data = {{"outage_id", field(K::text, kOptional, 128)},
                        {"status", field(K::text, kOptional, 32)},
                        {"cause", field(K::text, kOptional, 200)},
                        {"etr", field(K::datetime, kOptional)},
                        {"planned_start", field(K::datetime, kOptional)},
                        {"planned_end", field(K::datetime, kOptional)}};
  }
  DataField urgency = field(K::choice, kOptional, 16);
  urgency.choices = {"normal", "immediate"};
  types["notice.broadcast"].data = {{"title", field(K::text, kRequired, 200)},
                                    {"message", field(K::text, kRequired, 1600, true)},
                                    {"url", link},
                                    {"urgency", urgency}};
}

// The contact to use on a channel: active and verified, preferring one that has not opted out
// (a customer with two numbers, one stopped, still hears on the other).
const Contact* pick_contact(const std::vector<Contact>& contacts, Channel channel) {
  const Contact* fallback = nullptr;
  for (const Contact& c : contacts) {
    if (c.channel != channel || !c.active || !c.verified) continue;
    if (c.consent == ConsentState::opted_in) return &c;
    if (!fallback) fallback = &c;
  }
  return fallback;
}

Json quiet_hours_json(const QuietHours& qh) {
  return {{"enabled", qh.enabled}, {"start", format_local_time(qh.start)}, {"end", format_local_time(qh.end)}};
}

void suppress(Decision& d, std::string reason) {
  d.status = MessageStatus::suppressed;
  d.explanation["reason"] = reason;
  d.suppression_reason = std::move(reason);
}

}  // namespace

RulesConfig default_rules_config() {
  RulesConfig cfg;
  const EventTypeRule rules[] = {
      rule("bill.ready", Topic::billing, 7 * kDay),
      rule("bill.due_soon", Topic::billing, 72 * kHour, 1, false, false, "due_date"),
      rule("payment.received", Topic::billing, 72 * kHour),
      rule("payment.declined", Topic::billing, 72 * kHour, 1),
      rule("payment.scheduled", Topic::billing, 72 * kHour, 0, false, false, "scheduled_date"),
      rule("account.past_due", Topic::billing, 72 * kHour, 1),
      rule("disconnection.scheduled", Topic::billing, 72 * kHour, 2, false, true, "disconnection_date"),
      rule("card.expiring", Topic::billing, 7 * kDay),
      rule("meter.read", Topic::billing, 72 * kHour),
      rule("usage.high", Topic::billing, 48 * kHour),
      rule("leak.detected", Topic::other, 24 * kHour, 2, true),
      rule("service.order_updated", Topic::other, 72 * kHour),
      rule("appointment.scheduled", Topic::other, 72 * kHour, 0, false, false, "appointment_date"),
      rule("notice.broadcast", Topic::outage, 24 * kHour, 1),
  };
  for (const EventTypeRule& r : rules) cfg.types[r.type] = r;
  // What an outage's customers are told (rules/outage_notices.hpp); the engine fans them out.
  // Not urgent by default: they wait for quiet hours unless a utility marks them urgent.
  const EventTypeRule outage_rules[] = {
      rule("outage.confirmed", Topic::outage, 12 * kHour, 1),
      rule("outage.etr_updated", Topic::outage, 12 * kHour, 1),
      rule("outage.crew_assigned", Topic::outage, 12 * kHour, 1),
      rule("outage.restored", Topic::outage, 12 * kHour, 1),
      rule("outage.planned", Topic::outage, 7 * kDay),
      rule("outage.planned_reminder", Topic::outage, 2 * kDay),
      rule("outage.cancelled", Topic::outage, 2 * kDay, 1),
  };
  for (const EventTypeRule& r : outage_rules) cfg.types[r.type] = r;
  declare_shipped_data(cfg.types);
  // Reply-to-pay: "Reply Y to pay $82.17 with the card ending 4242" stays good for a day.
  cfg.conversations["account.past_due"] = {{{"Y", "payment.authorize"}, {"N", "close"}}, Seconds(24 * 3600)};
  // "Power is restored at 12 Main St. Still out? Reply OUT": OUT (or 1 on a call) files a
  // report for that premise, linked to the outage it answers.
  cfg.conversations["outage.restored"] = {{{"OUT", "outage.report"}, {"1", "outage.report"}}, Seconds(24 * 3600)};
  Preferences& p = cfg.default_preferences;
  p.topics[Topic::billing] = {Channel::sms, Channel::email};
  p.topics[Topic::outage] = {Channel::sms, Channel::voice};
  p.topics[Topic::other] = {Channel::email};
  cfg.utility_name = "City Utilities";
  cfg.utility_phone = "+1 800 555 0100";
  cfg.utility_url = "https://utility.example.com";
  return cfg;
}

std::string recipient_language(const RecipientContext& r, const RulesConfig& cfg) {
  if (r.preferences_stored && !r.preferences.language.empty()) return r.preferences.language;
  if (!r.account.language.empty()) return r.account.language;
  if (!r.customer.language.empty()) return r.customer.language;
  if (!r.preferences.language.empty()) return r.preferences.language;
  return cfg.default_language;
}

std::vector<Decision> decide(const Event& e, const RecipientContext& r, const RulesConfig& cfg, const TemplateStore& t,
                             TimePoint now) {
  std::vector<Decision> out;
  auto found = cfg.types.find(e.type);
  if (found == cfg.types.end()) return out;
  const EventTypeRule& rule = found->second;
  const std::string& tz = r.account.timezone;
  const bool tz_known = is_known_time_zone(tz);
  const std::string language = recipient_language(r, cfg);
  const QuietHours& qh = r.preferences.quiet_hours;
  const bool urgent = event_urgent(e, rule);

  // Timing is the same for every channel: work it out once.
  const TimePoint occurred = e.occurred_at == TimePoint{} ? now : e.occurred_at;
  std::optional<TimePoint> expires_at = occurred + rule.ttl;
  std::optional<TimePoint> send_at;
  if (tz_known) {
    if (!rule.expires_at_field.empty() && e.data.is_object()) {
      auto field = e.data.find(rule.expires_at_field);
      if (field != e.data.end() && field->is_string()) {
        if (auto end = end_of_local_day(field->get_ref<const std::string&>(), tz)) {
          expires_at = std::min(*expires_at, *end);
        }
      }
    }
    send_at = earliest_send_time(now, tz, qh, cfg.window, urgent);
  }

  // The stored explanation holds what the message's own columns do not (type, topic,
  // channel, language, contact, send and expiry times are columns): why this channel, the
  // local time that was judged, and for holds and expiries the hours that caused them.
  // Intake writes one per message, so it is kept small.
  Json base_explanation = {{"chosen_by", "none"}, {"time_zone", tz}};
  if (tz_known) base_explanation["local_time"] = local_time_string(now, tz);
  if (urgent || rule.regulatory) {
    Json flags = Json::object();
    if (urgent) flags["urgent"] = true;
    if (rule.regulatory) flags["regulatory"] = true;
    base_explanation["rule"] = std::move(flags);
  }
  auto explain_timing = [&](Json& explanation) {
    if (send_at) explanation["send_at_local"] = local_time_string(*send_at, tz);
    explanation["quiet_hours"] = quiet_hours_json(qh);
    explanation["window"] = {{"start", format_local_time(cfg.window.start)}, {"end", format_local_time(cfg.window.end)}};
    if (!rule.expires_at_field.empty()) explanation["expires_with"] = "data." + rule.expires_at_field;
  };

  auto start_decision = [&](Channel channel, const Contact* contact) {
    Decision d;
    d.channel = channel;
    d.urgent = urgent;
    d.priority = rule.priority;
    d.language = language;
    d.expires_at = expires_at;
    d.explanation = base_explanation;
    if (contact) {
      d.contact = *contact;
      d.explanation["consent"] = to_string(contact->consent);
    }
    return d;
  };

  std::optional<TemplateData> data;  // built on first use: suppressed-only events never pay for it
  for (Channel channel : kAllChannels) {
    const bool by_preference = r.preferences.wants(rule.topic, channel);
    const bool by_regulation =
        rule.regulatory && std::find(cfg.regulatory_channels.begin(), cfg.regulatory_channels.end(), channel) !=
                               cfg.regulatory_channels.end();
    // A channel the customer did not choose says nothing about this event: no row for it.
    if (!by_preference && !by_regulation) continue;

    const Contact* contact = pick_contact(r.contacts, channel);
    Decision d = start_decision(channel, contact);
    d.explanation["chosen_by"] = by_preference ? "preference" : "regulation";
    if (!contact) {
      suppress(d, "no_contact");
      out.push_back(std::move(d));
      continue;
    }
    if (contact->consent == ConsentState::opted_out) {
      suppress(d, "opted_out");
      out.push_back(std::move(d));
      continue;
    }

    if (!data) data.emplace(template_context(e, r, cfg, language));
    std::vector<std::pair<std::string, std::string>> extra;
    if (channel == Channel::email) {
      Json claims = {{"c", contact->id},
                     {"ch", "email"},
                     {"a", contact->address},
                     {"t", to_string(rule.topic)},
                     {"exp", to_unix_seconds(now + cfg.unsubscribe_token_ttl)}};
      // Without a deployment (a check of other rules) there is no link rather than a bad one.
      if (cfg.public_urls && cfg.token_secret)
        d.unsubscribe_url = cfg.public_urls->unsubscribe(sign_token(claims, cfg.token_secret->value));
      extra.emplace_back("unsubscribe_url", d.unsubscribe_url);
    }
    auto rendered = t.render_prepared(e.type, channel, language, cfg.default_language, *data, extra);
    if (!rendered) {
      d.explanation["template_error"] = rendered.error().message;
      suppress(d, "no_template");
      out.push_back(std::move(d));
      continue;
    }
    d.language = rendered->language;
    d.subject = std::move(rendered->subject);
    d.body = std::move(rendered->body);
    d.html = std::move(rendered->html);
    if (channel == Channel::sms) {
      SmsEncodingInfo info = sms_encoding(d.body);
      d.segments = info.segments;
      d.encoding = info.encoding;
    }

    if (!send_at) {
      suppress(d, "invalid_timezone");
      out.push_back(std::move(d));
      continue;
    }
    d.not_before = *send_at;
    if (*expires_at <= *send_at) {
      explain_timing(d.explanation);
      suppress(d, "expired");
      out.push_back(std::move(d));
      continue;
    }
    d.status = *send_at > now ? MessageStatus::scheduled : MessageStatus::queued;
    if (d.status == MessageStatus::scheduled) explain_timing(d.explanation);
    d.explanation["reason"] = d.status == MessageStatus::scheduled ? "held_until_allowed_time" : "send_now";
    out.push_back(std::move(d));
  }

  // No channel on for the topic: one row answers "why didn't they hear?", on the first channel
  // the customer can be reached on (sms when none).
  if (out.empty()) {
    Channel channel = kAllChannels[0];
    const Contact* contact = nullptr;
    for (Channel c : kAllChannels) {
      if ((contact = pick_contact(r.contacts, c))) {
        channel = c;
        break;
      }
    }
    Decision d = start_decision(channel, contact);
    suppress(d, "preference_off");
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace herald::rules

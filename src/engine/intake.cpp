// Events to messages: validation of claimed events and the mapping of decisions to outbox rows.
#include "herald/engine/intake.hpp"

#include "herald/rules/event_data.hpp"

namespace herald::engine {

namespace {

Message to_message(const Event& e, const RecipientContext& r, const EventTypeRule& rule, Decision&& d) {
  Message m;
  m.event_seq = e.seq;
  m.event_id = e.event_id;
  m.customer_id = r.customer.customer_id;
  m.account_id = r.account.account_id;
  if (d.contact) {
    m.contact_id = d.contact->id;
    m.address = std::move(d.contact->address);
  }
  m.channel = d.channel;
  m.type = e.type;
  m.topic = rule.topic;
  m.language = std::move(d.language);
  m.status = d.status;
  m.suppression_reason = std::move(d.suppression_reason);
  m.subject = std::move(d.subject);
  m.body = std::move(d.body);
  m.html = std::move(d.html);
  m.segments = d.segments;
  m.encoding = std::move(d.encoding);
  m.priority = d.priority;
  m.urgent = d.urgent;
  if (d.status != MessageStatus::suppressed) m.not_before = d.not_before;
  m.expires_at = d.expires_at;
  m.unsubscribe_url = std::move(d.unsubscribe_url);
  m.decision = std::move(d.explanation);
  return m;
}

}  // namespace

std::vector<store::EventOutcome> decide_events(const std::vector<Event>& events, const store::RecipientContexts& recipients,
                                               const rules::RulesConfig& rules, const rules::TemplateStore& templates,
                                               TimePoint now, const rules::LaneOverrides& lanes) {
  std::vector<store::EventOutcome> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    store::EventOutcome o;
    o.seq = e.seq;
    const auto rule = rules.types.find(e.type);
    const auto recipient = recipients.find(e.account_id);
    if (rule == rules.types.end()) {
      o.rejection = invalid("type", "unknown_event_type", "unknown event type '" + e.type + "'");
    } else if (e.account_id.empty() || recipient == recipients.end()) {
      o.rejection = invalid("account_id", "unknown_account", "no active account '" + e.account_id + "'");
    } else if (!e.data.is_object()) {
      o.rejection = invalid("data", "invalid_data", "data must be a JSON object");
    } else if (auto bad = rules::validate_event_data(e.data, rule->second)) {
      o.rejection = std::move(*bad);
    } else {
      // A recipient without stored preferences gets the configured defaults (a copy, only then).
      std::optional<RecipientContext> defaulted;
      if (!recipient->second.preferences_stored) {
        defaulted = recipient->second;
        defaulted->preferences = rules.default_preferences;
      }
      const RecipientContext& r = defaulted ? *defaulted : recipient->second;
      o.lane = rules::event_lane(e, rule->second, lanes);
      for (auto& d : rules::decide(e, r, rules, templates, now))
        o.messages.push_back(to_message(e, r, rule->second, std::move(d)));
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace herald::engine

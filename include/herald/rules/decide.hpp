// The rules engine: one event and its recipient -> one decision per channel (send, hold, suppress).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "herald/domain/deployment.hpp"
#include "herald/domain/types.hpp"
#include "herald/rules/conversation.hpp"
#include "herald/rules/send_window.hpp"
#include "herald/rules/templates.hpp"

namespace herald::rules {

struct RulesConfig {
  std::map<std::string, EventTypeRule> types;  // by event type
  SendWindow window;
  std::string default_language = "en";
  Preferences default_preferences;
  std::string utility_name, utility_phone, utility_url;
  // Where unsubscribe links point and the key that signs them: the deployment's one object
  // each, owned by whoever runs the rules. Unset: emails carry no unsubscribe link.
  const PublicUrls* public_urls = nullptr;
  const TokenSecret* token_secret = nullptr;
  Seconds unsubscribe_token_ttl{Seconds(365 * 24 * 3600)};
  // Regulatory notices go to every one of these channels the customer has a contact on,
  // whatever the preferences (consent, e.g. SMS STOP, is still honoured).
  std::vector<Channel> regulatory_channels{Channel::email, Channel::sms};
  // Event types whose SMS asks a question: once the gateway accepts such a message, replies
  // to it are matched against this declaration (config [rules.types."<type>".conversation]).
  std::map<std::string, ConversationSpec> conversations;
};

// The 14 event types of API.md with their topics and treatment:
// - billing: bill.*, payment.*, account.past_due, card.expiring, meter.read, usage.high, and
//   disconnection.scheduled (regulatory, priority 2);
// - other: leak.detected (urgent: a running leak costs money and may damage the premise, so it
//   may go out at night), service.order_updated, appointment.scheduled;
// - outage: notice.broadcast (area-wide service notices such as boil-water orders are what
//   customers subscribed to outage alerts expect to hear; not urgent by default: a utility
//   that sends safety broadcasts can mark it urgent in config).
// bill.due_soon expires at the end of its data.due_date (no "bill due" after the due date);
// payment.scheduled at the end of data.scheduled_date, appointment.scheduled at the end of
// data.appointment_date, disconnection.scheduled at the end of data.disconnection_date.
// Each type declares the data fields its shipped templates use (config/templates/README.md),
// money non-negative and at most 10^9, so an event that would print a blank is refused.
// account.past_due opens a conversation for 24 hours: Y -> payment.authorize, N -> close.
RulesConfig default_rules_config();

// Decisions for each chosen channel (preferences, or regulatory_channels for regulatory
// types), in the order sms, email, voice:
// - chosen, no active verified contact: suppressed "no_contact";
// - the contact opted out: suppressed "opted_out";
// - no template in the language or the default: suppressed "no_template";
// - the account's time zone is unknown: suppressed "invalid_timezone";
// - it would expire before it may be sent: suppressed "expired";
// - otherwise queued (may go now) or scheduled (held until the window opens), not_before set.
// A channel the customer did not choose gets no decision: a row per unchosen channel would
// say nothing and cost a write per recipient. When no channel at all is chosen for the topic,
// one decision, suppressed "preference_off", says why the customer hears nothing (on the
// first channel with a contact, sms when there is none).
// An event type missing from cfg.types yields no decisions (the caller rejects the event).
// Events with occurred_at unset (TimePoint{}) count as occurring at `now`.
std::vector<Decision> decide(const Event& e, const RecipientContext& r, const RulesConfig& cfg, const TemplateStore& t,
                             TimePoint now);

// The language a recipient reads: stored preferences, else the account's, else the
// customer's, else the default.
std::string recipient_language(const RecipientContext& r, const RulesConfig& cfg);

}  // namespace herald::rules

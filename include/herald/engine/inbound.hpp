// Inbound SMS: the one pipeline every provider webhook hands a received message to, and the
// actions that conversations and service keywords run.
//
// Webhooks (Twilio's POST /v1/webhooks/twilio/sms, Kannel's GET /v1/webhooks/kannel/mo) parse
// their provider's format, check its credential, and call InboundPipeline::handle. It stores the
// message (once per provider message id), decides what it means in the order of
// MESSAGING_RULES.md, acts, and returns the reply text; the webhook sends that reply back in its
// own response (TwiML for Twilio, the plain body for Kannel's get-url; "" sends nothing).
//
// Order: opt-out words (consent opted_out, source sms, evidence "inbound:<id>", for the number:
// every account sharing it; one confirmation, a repeated STOP gets none) -> START/UNSTOP (opt
// back in) -> HELP/INFO -> an opted-out number gets nothing else -> the newest open conversation
// on the number, when the reply is one it expects -> YES when no conversation expects it (opt
// in) -> service keywords (OUT, STATUS, BAL, PAY, REG: their actions, see service_actions) ->
// the keyword menu.
//
// Adding an action: write a function ActionResult(const ActionRequest&) and register it by
// name in app/actions.cpp (register_actions). A template's conversation declaration
// ([rules.types."<type>".conversation] replies = { Y = "payment.authorize" }) or a service
// keyword (inbound.service_actions) then reaches it. Actions run outside any transaction; they
// may call the CIS. An action that needs one account calls ask_which_account first.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/inbound_texts.hpp"
#include "herald/rules/keywords.hpp"
#include "herald/store/db.hpp"
#include "herald/store/inbound.hpp"

namespace herald::engine {

// A text received from a provider.
struct InboundSms {
  std::string provider;             // "twilio", "kannel"
  std::string provider_message_id;  // Twilio's MessageSid; "" when the provider gives none (then never deduplicated)
  std::string from, to;             // as the provider wrote them; `from` is read as E.164 (default region US)
  std::string body;
  TimePoint received_at{};          // TimePoint{}: the pipeline's clock
  // voice: keys pressed during a call (body: the digits; from: the number called). They answer
  // only the conversation the call's message opened, and nothing else (no keywords, no menu).
  Channel channel = Channel::sms;
  std::int64_t call_message_id = 0;  // voice: the message the call delivers
};

struct InboundResult {
  std::int64_t inbound_id = 0;
  bool duplicate = false;  // a replay of a stored message: not acted on again, same reply
  std::string reply;       // what to send back; "" for nothing
};

// An account the texting number belongs to (customer, account, premise, label = the service
// address's first line, the customer's language).
using NumberAccount = store::NumberAccount;

struct InboundSettings;

// What an action is given.
struct ActionRequest {
  std::int64_t inbound_id = 0;
  Channel channel = Channel::sms;  // sms, or voice for keys pressed during a call
  std::string address;  // the number that texted, E.164
  std::string text;     // the message as received
  std::string reply;    // what chose the action: the expected reply ("Y", "1") or the keyword ("BAL")
  std::string action;   // the action's registered name
  std::int64_t conversation_id = 0;  // the conversation answered; 0 when a keyword started the action
  // The conversation's context: for one a message opened {"message_id", "type", "event_id",
  // "data": the event's data}; for a follow-up, what the action that opened it put there.
  Json context = Json::object();
  std::vector<NumberAccount> accounts;   // every active account on the number (several customers may share it)
  std::optional<NumberAccount> account;  // the one to act for: the conversation's, the one chosen, or the only one
  std::string language;                  // reply in this language
  TimePoint now{};
  const InboundSettings* settings = nullptr;  // texts and utility facts, for replies
};

// A conversation an action opens to carry on (a confirmation step, a choice).
struct FollowUp {
  std::map<std::string, std::string> replies;  // expected reply -> action
  Seconds ttl{Seconds(15 * 60)};
  Json context = Json::object();
  std::optional<NumberAccount> account;  // default: the request's
};

struct ActionResult {
  enum class Next { close, keep, follow_up };
  std::string reply;       // sent back; "" for none
  Next next = Next::close;  // the conversation answered: closed, kept open, or closed for a follow-up
  std::optional<FollowUp> follow_up;  // with Next::follow_up
  std::string error;       // recorded on the inbound message (e.g. "cis: timeout"); the reply still goes
};

using Action = std::function<ActionResult(const ActionRequest&)>;

// Actions by name. Filled once at start-up, read by every webhook thread afterwards.
class ActionRegistry {
 public:
  void add(std::string name, Action action);  // replaces one of the same name
  const Action* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Action, std::less<>> actions_;
};

// close: ends the conversation with the "closed" text.
// choose: the answer to a choice. The conversation's context holds
//   {"choices": {"1": {"account": {...NumberAccount}, ...}, ...}, "then": "<action>", "carry": {...}}
// and the chosen entry's account (if any) becomes the request's account; "then" runs with the
// context's "carry" as its context. Used by ask_which_account; any action may open one.
void register_builtin_actions(ActionRegistry& registry);

// §5, several accounts on one number: when the request already names its account, nullopt (go
// on). Otherwise a result that asks "Reply 1 for 12 Main St, 2 for 40 Oak Ave" in the request's
// language, as a follow-up conversation whose answer runs `then_action` again with the chosen
// account and `carry` as its context. A number with no account gets nullopt too (the caller
// decides what to say).
std::optional<ActionResult> ask_which_account(const ActionRequest& request, std::string_view then_action,
                                              Json carry = Json::object());

// The request's texts in its language with {utility}, {phone} and {url} filled.
rules::InboundTexts texts_for(const ActionRequest& request);

struct InboundSettings {
  rules::KeywordConfig keywords = rules::default_keyword_config();
  rules::InboundReplies replies = rules::default_inbound_replies();
  // Service keyword -> action. A keyword whose action is not registered gets the menu.
  std::map<std::string, std::string> service_actions{{"BAL", "balance"},
                                                     {"PAY", "payment.request"},
                                                     {"OUT", "outage.report"},
                                                     {"STATUS", "outage.status"},
                                                     {"REG", "registration.start"}};
  std::string utility_name, utility_phone, utility_url;
  std::string default_language = "en";
  std::string default_region = "US";   // for numbers a provider sends without a country code
  Seconds choice_ttl{Seconds(15 * 60)};  // how long a choice among accounts stays open
  // A replay that finds its first delivery stored but never answered (the process died) acts
  // on it once this long has passed since it was claimed.
  Seconds reclaim_after{Seconds(30)};
};

class InboundPipeline {
 public:
  // Keeps references: db, actions and clock must outlive the pipeline.
  InboundPipeline(store::Database& db, InboundSettings settings, const ActionRegistry& actions,
                  const rules::Clock& clock);
  ~InboundPipeline();
  InboundPipeline(const InboundPipeline&) = delete;
  InboundPipeline& operator=(const InboundPipeline&) = delete;

  // Stores, acts and answers. Thread-safe. Throws only on infrastructure failures (the
  // database); an action that throws is recorded as the message's error and answered with the
  // "unavailable" text.
  InboundResult handle(const InboundSms& sms);

  const InboundSettings& settings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::engine

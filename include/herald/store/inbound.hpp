// Inbound messages and conversations as stored: the once-per-provider-id record of each received
// text, what it matched and the reply sent, and the conversations replies are matched against.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// An account a number belongs to (through an active contact of its customer on the channel).
struct NumberAccount {
  std::string customer_id, account_id, premise_id;
  std::string label;     // the service address's first line ("" when the CIS sent none)
  std::string language;  // the customer's
};

// Active accounts of every customer with an active contact (channel, address), by customer
// then account id.
std::vector<NumberAccount> accounts_for_number(Database& db, Channel channel, const std::string& address);

struct NewInbound {
  std::string provider, provider_message_id;  // provider_message_id "" is stored as NULL (never a duplicate)
  Channel channel = Channel::sms;
  std::string from, to, body;
  TimePoint received_at{};
};

struct StoredInbound {
  std::int64_t id = 0;
  bool duplicate = false;  // (provider, provider_message_id) was stored before
  bool handled = false;    // acted on (handled_at set)
  std::string reply;
  TimePoint claimed_at{};
};

// Inserts the message with the customers and contacts that have the number now; on a
// (provider, provider_message_id) conflict, returns the stored row with duplicate = true.
StoredInbound store_inbound(Database& db, const NewInbound& in, TimePoint now);

// A replay found its first delivery stored but not handled, claimed before `stale_before` (the
// process handling it died): claims it for this caller. True when this caller now owns it.
bool reclaim_inbound(Database& db, std::int64_t id, TimePoint stale_before, TimePoint now);

// The stored row's state, for a replay that waits for its first delivery to be answered.
std::optional<StoredInbound> inbound_state(Database& db, std::int64_t id);

// What handling found and did.
struct InboundOutcome {
  std::int64_t conversation_id = 0;  // 0: none
  std::string matched;  // opt_out, opt_in, help, conversation, yes, service, menu, ignored
  std::string keyword;  // the keyword or the expected reply that matched
  std::string action;   // the action run, if any
  std::string reply;
  std::string error;
};
void record_inbound_outcome(Database& db, std::int64_t id, const InboundOutcome& outcome, TimePoint now);

struct Conversation {
  std::int64_t id = 0;
  std::optional<std::int64_t> message_id, parent_id;
  Channel channel = Channel::sms;
  std::string address, customer_id, account_id;
  Json expected = Json::object();  // normalised reply -> action
  Json context = Json::object();
  std::string state;  // open, closed, superseded, cancelled
  TimePoint opened_at{}, expires_at{};
  std::optional<TimePoint> closed_at;
};

// The newest conversation on (channel, address) still open and not expired at `now`.
std::optional<Conversation> newest_open_conversation(Database& db, Channel channel, const std::string& address,
                                                     TimePoint now);

// Opens a conversation (id and state ignored); returns its id. A conversation with a parent
// closes the parent as superseded in the same transaction.
std::int64_t open_conversation(Database& db, const Conversation& c);

// open -> `state` (closed, cancelled) at `now`; a conversation no longer open stays as it is.
void close_conversation(Database& db, std::int64_t id, const std::string& state, TimePoint now);

// Cancels every open conversation on the address (an opt-out). Returns how many.
int cancel_open_conversations(Database& db, Channel channel, const std::string& address, TimePoint now);

struct InboundRow {
  std::int64_t id = 0;
  std::string provider, provider_message_id;
  Channel channel = Channel::sms;
  std::string from, to, body;
  TimePoint received_at{};
  std::vector<std::string> customer_ids;
  std::optional<std::int64_t> conversation_id;
  std::string matched, keyword, action, reply;
  std::optional<std::string> error;
  std::optional<TimePoint> handled_at;
};

// Empty / nullopt: no filter. from/to bound received_at (from inclusive, to exclusive).
struct InboundFilter {
  std::string address;  // the number that texted
  std::optional<TimePoint> from, to;
  std::int64_t before_id = 0;  // keyset position: only ids below; 0 from the newest
  int limit = 50;              // clamped to 1..500
};

struct InboundPage {
  std::vector<InboundRow> items;
  std::optional<std::int64_t> next_before_id;  // absent on the last page
};

// Newest first, keyset pagination on id.
InboundPage list_inbound(Database& db, const InboundFilter& filter);

// A conversation with the replies it received (oldest first) and the follow-ups it led to.
struct ConversationThread {
  Conversation conversation;
  std::vector<InboundRow> replies;
  std::vector<ConversationThread> follow_ups;
};

// The conversation message `message_id` opened, with its replies and follow-ups; nullopt when
// it opened none.
std::optional<ConversationThread> conversation_for_message(Database& db, std::int64_t message_id);

// A voice message as its call needs it: whom it calls, what it says and in which language.
struct CallMessage {
  std::int64_t id = 0;
  std::string address, type, language, body, customer_id, account_id;
  MessageStatus status = MessageStatus::queued;
};
// nullopt when there is no voice message with this id.
std::optional<CallMessage> call_message(Database& db, std::int64_t message_id);

// Opens the conversation of voice message `message_id` (channel voice, its address, account and
// event as context, like an SMS's), open from `now` for `ttl`, unless the message has one; either
// way returns the message's conversation. nullopt when there is no such voice message.
std::optional<Conversation> open_call_conversation(Database& db, std::int64_t message_id, const Json& expected,
                                                   Seconds ttl, TimePoint now);

// The conversation voice message `message_id` opened, while it is open and not expired at `now`.
std::optional<Conversation> open_conversation_of_call(Database& db, std::int64_t message_id, TimePoint now);

}  // namespace herald::store

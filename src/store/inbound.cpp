// Inbound messages (stored once per provider id) and conversations.
#include "herald/store/inbound.hpp"

#include <algorithm>

#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kAccountsForNumber =
    "SELECT a.customer_id, a.account_id, a.premise_id, coalesce(a.service_address->>'line1', ''), cu.language"
    " FROM herald.contacts ct"
    " JOIN herald.customers cu ON cu.customer_id = ct.customer_id"
    " JOIN herald.accounts a ON a.customer_id = ct.customer_id AND a.active"
    " WHERE ct.channel = $1 AND ct.address = $2 AND ct.active"
    " ORDER BY a.customer_id, a.account_id";

// The customers and contacts on the number are recorded as they are when the text arrives.
const char* const kInsertInbound = R"SQL(
WITH who AS (
  SELECT coalesce(array_agg(DISTINCT customer_id ORDER BY customer_id), '{}') AS customers,
         coalesce(array_agg(contact_id ORDER BY contact_id), '{}') AS contacts
  FROM herald.contacts WHERE channel = $3 AND address = $4 AND active
)
INSERT INTO herald.inbound_messages (provider, provider_message_id, channel, from_address, to_address, body,
                                     received_at, customer_ids, contact_ids, claimed_at)
SELECT $1, NULLIF($2, ''), $3, $4, $5, $6, $7::timestamptz, who.customers, who.contacts, $8::timestamptz FROM who
ON CONFLICT (provider, provider_message_id) WHERE provider_message_id IS NOT NULL DO NOTHING
RETURNING id, claimed_at)SQL";

const char* const kInboundByProviderId =
    "SELECT id, handled_at IS NOT NULL, reply, claimed_at FROM herald.inbound_messages"
    " WHERE provider = $1 AND provider_message_id = $2";

const char* const kInboundState =
    "SELECT id, handled_at IS NOT NULL, reply, claimed_at FROM herald.inbound_messages WHERE id = $1";

const char* const kReclaim =
    "UPDATE herald.inbound_messages SET claimed_at = $3::timestamptz"
    " WHERE id = $1 AND handled_at IS NULL AND claimed_at < $2::timestamptz RETURNING id";

const char* const kRecordOutcome =
    "UPDATE herald.inbound_messages SET conversation_id = NULLIF($2::bigint, 0), matched = $3, keyword = $4,"
    " action = $5, reply = $6, error = NULLIF($7, ''), handled_at = $8::timestamptz WHERE id = $1";

const char* const kConversationColumns =
    "id, message_id, parent_id, channel, address, coalesce(customer_id, ''), coalesce(account_id, ''),"
    " expected::text, context::text, state, opened_at, expires_at, closed_at";

const char* const kNewestOpen =
    "SELECT id, message_id, parent_id, channel, address, coalesce(customer_id, ''), coalesce(account_id, ''),"
    " expected::text, context::text, state, opened_at, expires_at, closed_at"
    " FROM herald.conversations"
    " WHERE channel = $1 AND address = $2 AND state = 'open' AND expires_at > $3::timestamptz"
    " ORDER BY opened_at DESC, id DESC LIMIT 1";

const char* const kOpenConversation =
    "INSERT INTO herald.conversations (message_id, parent_id, channel, address, customer_id, account_id, expected,"
    " context, opened_at, expires_at)"
    " VALUES (NULLIF($1::bigint, 0), NULLIF($2::bigint, 0), $3, $4, NULLIF($5, ''), NULLIF($6, ''), $7::jsonb,"
    " $8::jsonb, $9::timestamptz, $10::timestamptz) RETURNING id";

const char* const kSupersede =
    "UPDATE herald.conversations SET state = 'superseded', closed_at = $2::timestamptz"
    " WHERE id = $1 AND state = 'open'";

const char* const kClose =
    "UPDATE herald.conversations SET state = $2, closed_at = $3::timestamptz WHERE id = $1 AND state = 'open'";

const char* const kCancelOpen =
    "UPDATE herald.conversations SET state = 'cancelled', closed_at = $3::timestamptz"
    " WHERE channel = $1 AND address = $2 AND state = 'open'";

const char* const kInboundColumns =
    "id, provider, coalesce(provider_message_id, ''), channel, from_address, to_address, body, received_at,"
    " to_json(customer_ids)::text, conversation_id, matched, keyword, action, reply, error, handled_at";

constexpr int kMaxLimit = 500;

const char* const kCallMessage =
    "SELECT id, address, type, language, body, customer_id, account_id, status FROM herald.messages"
    " WHERE id = $1 AND channel = 'voice'";

// One per voice message (0015): a second fetch of the call's TwiML finds the first's.
const char* const kOpenCallConversation = R"SQL(
INSERT INTO herald.conversations (message_id, channel, address, customer_id, account_id, expected, context,
                                  opened_at, expires_at)
SELECT m.id, 'voice', m.address, m.customer_id, m.account_id, $2::jsonb,
       jsonb_build_object('message_id', m.id, 'type', m.type, 'event_id', m.event_id,
                          'data', coalesce(e.data, '{}'::jsonb)),
       $3::timestamptz, $3::timestamptz + make_interval(secs => $4::double precision)
FROM herald.messages m LEFT JOIN herald.events e ON e.seq = m.event_seq
WHERE m.id = $1 AND m.channel = 'voice'
ON CONFLICT (message_id) WHERE channel = 'voice' AND message_id IS NOT NULL DO NOTHING)SQL";

StoredInbound stored_of(const pqxx::row& row) {
  StoredInbound s;
  s.id = row[0].as<std::int64_t>();
  s.handled = row[1].as<bool>();
  s.reply = text_of(row[2]);
  s.claimed_at = time_of(row[3]);
  return s;
}

Conversation conversation_of(const pqxx::row& row) {
  Conversation c;
  c.id = row[0].as<std::int64_t>();
  if (!row[1].is_null()) c.message_id = row[1].as<std::int64_t>();
  if (!row[2].is_null()) c.parent_id = row[2].as<std::int64_t>();
  c.channel = channel_of(row[3]);
  c.address = row[4].c_str();
  c.customer_id = row[5].c_str();
  c.account_id = row[6].c_str();
  c.expected = Json::parse(row[7].c_str());
  c.context = Json::parse(row[8].c_str());
  c.state = row[9].c_str();
  c.opened_at = time_of(row[10]);
  c.expires_at = time_of(row[11]);
  c.closed_at = optional_time_of(row[12]);
  return c;
}

InboundRow inbound_of(const pqxx::row& row) {
  InboundRow r;
  r.id = row[0].as<std::int64_t>();
  r.provider = row[1].c_str();
  r.provider_message_id = row[2].c_str();
  r.channel = channel_of(row[3]);
  r.from = row[4].c_str();
  r.to = row[5].c_str();
  r.body = row[6].c_str();
  r.received_at = time_of(row[7]);
  for (const auto& id : Json::parse(row[8].c_str())) r.customer_ids.push_back(id.get<std::string>());
  if (!row[9].is_null()) r.conversation_id = row[9].as<std::int64_t>();
  r.matched = row[10].c_str();
  r.keyword = row[11].c_str();
  r.action = row[12].c_str();
  r.reply = row[13].c_str();
  if (!row[14].is_null()) r.error = std::string(row[14].c_str());
  r.handled_at = optional_time_of(row[15]);
  return r;
}

ConversationThread thread_of(pqxx::transaction_base& t, const Conversation& c, int depth) {
  ConversationThread thread{c, {}, {}};
  for (const auto& row : t.exec_params(std::string("SELECT ") + kInboundColumns +
                                           " FROM herald.inbound_messages WHERE conversation_id = $1 ORDER BY id",
                                       c.id))
    thread.replies.push_back(inbound_of(row));
  // A chain of follow-ups is short (a confirmation, a choice); the bound only guards the view.
  if (depth < 8) {
    for (const auto& row : t.exec_params(std::string("SELECT ") + kConversationColumns +
                                             " FROM herald.conversations WHERE parent_id = $1 ORDER BY id",
                                         c.id))
      thread.follow_ups.push_back(thread_of(t, conversation_of(row), depth + 1));
  }
  return thread;
}

}  // namespace

std::vector<NumberAccount> accounts_for_number(Database& db, Channel channel, const std::string& address) {
  return in_transaction(db, [&](pqxx::work& w) {
    std::vector<NumberAccount> out;
    for (const auto& row : w.exec_params(kAccountsForNumber, std::string(to_string(channel)), address))
      out.push_back({row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str(), row[4].c_str()});
    return out;
  });
}

StoredInbound store_inbound(Database& db, const NewInbound& in, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    const auto inserted =
        w.exec_params(kInsertInbound, in.provider, in.provider_message_id, std::string(to_string(in.channel)), in.from,
                      in.to, in.body, format_time(in.received_at), format_time(now));
    if (!inserted.empty()) {
      StoredInbound s;
      s.id = inserted[0][0].as<std::int64_t>();
      s.claimed_at = time_of(inserted[0][1]);
      return s;
    }
    // The conflicting row committed before ON CONFLICT returned, so it is visible here.
    auto s = stored_of(w.exec_params1(kInboundByProviderId, in.provider, in.provider_message_id));
    s.duplicate = true;
    return s;
  });
}

bool reclaim_inbound(Database& db, std::int64_t id, TimePoint stale_before, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    return !w.exec_params(kReclaim, id, format_time(stale_before), format_time(now)).empty();
  });
}

std::optional<StoredInbound> inbound_state(Database& db, std::int64_t id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<StoredInbound> {
    const auto r = w.exec_params(kInboundState, id);
    if (r.empty()) return std::nullopt;
    return stored_of(r[0]);
  });
}

void record_inbound_outcome(Database& db, std::int64_t id, const InboundOutcome& o, TimePoint now) {
  in_transaction(db, [&](pqxx::work& w) {
    w.exec_params(kRecordOutcome, id, o.conversation_id, o.matched, o.keyword, o.action, o.reply, o.error,
                  format_time(now));
  });
}

std::optional<Conversation> newest_open_conversation(Database& db, Channel channel, const std::string& address,
                                                     TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<Conversation> {
    const auto r = w.exec_params(kNewestOpen, std::string(to_string(channel)), address, format_time(now));
    if (r.empty()) return std::nullopt;
    return conversation_of(r[0]);
  });
}

std::int64_t open_conversation(Database& db, const Conversation& c) {
  return in_transaction(db, [&](pqxx::work& w) {
    if (c.parent_id) w.exec_params(kSupersede, *c.parent_id, format_time(c.opened_at));
    return w
        .exec_params1(kOpenConversation, c.message_id.value_or(0), c.parent_id.value_or(0),
                      std::string(to_string(c.channel)), c.address, c.customer_id, c.account_id, c.expected.dump(),
                      c.context.dump(), format_time(c.opened_at), format_time(c.expires_at))[0]
        .as<std::int64_t>();
  });
}

void close_conversation(Database& db, std::int64_t id, const std::string& state, TimePoint now) {
  in_transaction(db, [&](pqxx::work& w) { w.exec_params(kClose, id, state, format_time(now)); });
}

int cancel_open_conversations(Database& db, Channel channel, const std::string& address, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    return static_cast<int>(
        w.exec_params(kCancelOpen, std::string(to_string(channel)), address, format_time(now)).affected_rows());
  });
}

InboundPage list_inbound(Database& db, const InboundFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxLimit);
  const std::string sql = std::string("SELECT ") + kInboundColumns +
                          " FROM herald.inbound_messages"
                          " WHERE ($1 = '' OR from_address = $1)"
                          "   AND (NULLIF($2, '') IS NULL OR received_at >= NULLIF($2, '')::timestamptz)"
                          "   AND (NULLIF($3, '') IS NULL OR received_at < NULLIF($3, '')::timestamptz)"
                          "   AND ($4::bigint = 0 OR id < $4::bigint)"
                          " ORDER BY id DESC LIMIT $5::integer";
  return in_transaction(db, [&](pqxx::work& w) {
    InboundPage page;
    const auto rows = w.exec_params(sql, f.address, f.from ? format_time(*f.from) : std::string(),
                                    f.to ? format_time(*f.to) : std::string(), f.before_id, limit + 1);
    for (const auto& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_before_id = page.items.back().id;
        break;
      }
      page.items.push_back(inbound_of(row));
    }
    return page;
  });
}

std::optional<ConversationThread> conversation_for_message(Database& db, std::int64_t message_id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<ConversationThread> {
    const auto r = w.exec_params(std::string("SELECT ") + kConversationColumns +
                                     " FROM herald.conversations WHERE message_id = $1 ORDER BY id LIMIT 1",
                                 message_id);
    if (r.empty()) return std::nullopt;
    return thread_of(w, conversation_of(r[0]), 0);
  });
}

std::optional<CallMessage> call_message(Database& db, std::int64_t message_id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<CallMessage> {
    const auto r = w.exec_params(kCallMessage, message_id);
    if (r.empty()) return std::nullopt;
    CallMessage m;
    m.id = r[0][0].as<std::int64_t>();
    m.address = r[0][1].c_str();
    m.type = r[0][2].c_str();
    m.language = r[0][3].c_str();
    m.body = r[0][4].c_str();
    m.customer_id = r[0][5].c_str();
    m.account_id = r[0][6].c_str();
    m.status = message_status_of(r[0][7]);
    return m;
  });
}

std::optional<Conversation> open_call_conversation(Database& db, std::int64_t message_id, const Json& expected,
                                                   Seconds ttl, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<Conversation> {
    w.exec_params(kOpenCallConversation, message_id, expected.dump(), format_time(now),
                  static_cast<double>(ttl.count()));
    const auto r = w.exec_params(std::string("SELECT ") + kConversationColumns +
                                     " FROM herald.conversations WHERE message_id = $1 AND channel = 'voice'",
                                 message_id);
    if (r.empty()) return std::nullopt;
    return conversation_of(r[0]);
  });
}

std::optional<Conversation> open_conversation_of_call(Database& db, std::int64_t message_id, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<Conversation> {
    const auto r = w.exec_params(std::string("SELECT ") + kConversationColumns +
                                     " FROM herald.conversations WHERE message_id = $1 AND channel = 'voice'"
                                     " AND state = 'open' AND expires_at > $2::timestamptz",
                                 message_id, format_time(now));
    if (r.empty()) return std::nullopt;
    return conversation_of(r[0]);
  });
}

}  // namespace herald::store

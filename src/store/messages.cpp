// The message log: filtered keyset pages of summaries, and one message with its attempts and
// receipts.
#include "herald/store/messages.hpp"

#include <algorithm>

#include "repo_util.hpp"

namespace herald::store {

namespace {

// One statement for every filter combination: an empty parameter switches its filter off.
// Parameters are bound at plan time (unnamed statement), so Postgres folds the switched-off
// filters away and picks the index of the ones left (customer, account, address, created).
const char* const kListMessages =
    "SELECT id, created_at, customer_id, account_id, channel, address, type, topic, status,"
    " suppression_reason, gateway, left(body, 80), event_id, attempts, not_before, sent_at"
    " FROM herald.messages"
    " WHERE ($1 = '' OR customer_id = $1)"
    "   AND ($2 = '' OR account_id = $2)"
    "   AND ($3 = '' OR address = $3)"
    "   AND ($4 = '' OR channel = $4)"
    "   AND ($5 = '' OR type = $5)"
    "   AND ($6 = '' OR topic = $6)"
    "   AND ($7 = '' OR status = $7)"
    "   AND ($8 = '' OR body ILIKE '%' || $8 || '%' OR subject ILIKE '%' || $8 || '%')"
    "   AND (NULLIF($9, '') IS NULL OR created_at >= NULLIF($9, '')::timestamptz)"
    "   AND (NULLIF($10, '') IS NULL OR created_at < NULLIF($10, '')::timestamptz)"
    "   AND ($11::bigint = 0 OR id < $11::bigint)"
    " ORDER BY id DESC LIMIT $12::integer";

// due_at comes from the dispatch queue: when the message is next looked at, if it is still to go out.
const char* const kSelectMessage =
    "SELECT id, event_seq, event_id, customer_id, account_id, contact_id, channel, address, type, topic,"
    " language, priority, urgent, subject, body, html, segments, encoding, status, suppression_reason,"
    " decision::text, not_before, expires_at, q.due_at, attempts, gateway, provider_id, last_error,"
    " created_at, updated_at, sent_at, delivered_at"
    " FROM herald.messages m LEFT JOIN herald.message_queue q ON q.message_id = m.id WHERE m.id = $1";

const char* const kSelectAttempts =
    "SELECT attempt, gateway, started_at, duration_ms, outcome, http_status, error_code, detail, provider_id"
    " FROM herald.message_attempts WHERE message_id = $1 ORDER BY id";

const char* const kSelectReceipts =
    "SELECT status, error_code, received_at, raw::text, gateway"
    " FROM herald.delivery_receipts WHERE message_id = $1 ORDER BY id";

constexpr int kMaxLimit = 500;

std::optional<std::string> optional_text_of(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str());
}

template <typename T>
std::optional<T> optional_of(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

std::string filter_text(const std::optional<Channel>& v) { return v ? std::string(to_string(*v)) : ""; }
std::string filter_text(const std::optional<Topic>& v) { return v ? std::string(to_string(*v)) : ""; }
std::string filter_text(const std::optional<MessageStatus>& v) { return v ? std::string(to_string(*v)) : ""; }

MessageSummary summary_of(const pqxx::row& row) {
  MessageSummary m;
  m.id = row[0].as<std::int64_t>();
  m.created_at = time_of(row[1]);
  m.customer_id = row[2].c_str();
  m.account_id = row[3].c_str();
  m.channel = channel_of(row[4]);
  m.address = row[5].c_str();
  m.type = row[6].c_str();
  m.topic = topic_of(row[7]);
  m.status = message_status_of(row[8]);
  m.suppression_reason = optional_text_of(row[9]);
  m.gateway = optional_text_of(row[10]);
  m.body_preview = row[11].c_str();
  m.event_id = row[12].c_str();
  m.attempts = row[13].as<int>();
  m.not_before = optional_time_of(row[14]);
  m.sent_at = optional_time_of(row[15]);
  return m;
}

MessageDetail detail_of(const pqxx::row& row) {
  MessageDetail m;
  m.id = row[0].as<std::int64_t>();
  m.event_seq = optional_of<std::int64_t>(row[1]);
  m.event_id = row[2].c_str();
  m.customer_id = row[3].c_str();
  m.account_id = row[4].c_str();
  m.contact_id = optional_of<std::int64_t>(row[5]);
  m.channel = channel_of(row[6]);
  m.address = row[7].c_str();
  m.type = row[8].c_str();
  m.topic = topic_of(row[9]);
  m.language = row[10].c_str();
  m.priority = row[11].as<int>();
  m.urgent = row[12].as<bool>();
  m.subject = row[13].c_str();
  m.body = row[14].c_str();
  m.html = row[15].c_str();
  m.segments = row[16].as<int>();
  m.encoding = row[17].c_str();
  m.status = message_status_of(row[18]);
  m.suppression_reason = optional_text_of(row[19]);
  m.decision = json_of(row[20]);
  m.not_before = optional_time_of(row[21]);
  m.expires_at = optional_time_of(row[22]);
  m.due_at = optional_time_of(row[23]);
  m.attempt_count = row[24].as<int>();
  m.gateway = optional_text_of(row[25]);
  m.provider_id = optional_text_of(row[26]);
  m.last_error = optional_text_of(row[27]);
  m.created_at = time_of(row[28]);
  m.updated_at = time_of(row[29]);
  m.sent_at = optional_time_of(row[30]);
  m.delivered_at = optional_time_of(row[31]);
  return m;
}

MessageAttempt attempt_of(const pqxx::row& a) {
  MessageAttempt out;
  out.attempt = a[0].as<int>();
  out.gateway = a[1].c_str();
  out.started_at = time_of(a[2]);
  out.duration_ms = a[3].as<int>();
  out.outcome = a[4].c_str();
  out.http_status = optional_of<int>(a[5]);
  out.error_code = optional_text_of(a[6]);
  out.detail = a[7].c_str();
  out.provider_id = optional_text_of(a[8]);
  return out;
}

DeliveryReceipt receipt_of(const pqxx::row& r) {
  DeliveryReceipt out;
  out.status = r[0].c_str();
  out.error_code = optional_text_of(r[1]);
  out.received_at = time_of(r[2]);
  out.raw = json_of(r[3]);
  out.gateway = r[4].c_str();
  return out;
}

}  // namespace

MessagePage list_messages(Database& db, const MessageFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxLimit);
  MessagePage page;
  with_connection(db, [&](pqxx::connection& c) {
    page = MessagePage{};
    pqxx::nontransaction n(c);
    // One row more than asked tells whether there is a next page.
    const auto rows = n.exec_params(kListMessages, f.customer_id, f.account_id, f.address, filter_text(f.channel),
                                    f.type, filter_text(f.topic), filter_text(f.status), like_escape(f.q),
                                    f.from ? format_time(*f.from) : "", f.to ? format_time(*f.to) : "",
                                    f.before_id, limit + 1);
    for (const auto& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_before_id = page.items.back().id;
        break;
      }
      page.items.push_back(summary_of(row));
    }
  });
  return page;
}

std::optional<MessageDetail> get_message_detail(Database& db, std::int64_t id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<MessageDetail> {
    const auto r = w.exec_params(kSelectMessage, id);
    if (r.empty()) return std::nullopt;
    auto m = detail_of(r[0]);
    for (const auto& a : w.exec_params(kSelectAttempts, id)) m.attempts.push_back(attempt_of(a));
    for (const auto& rc : w.exec_params(kSelectReceipts, id)) m.receipts.push_back(receipt_of(rc));
    return m;
  });
}

}  // namespace herald::store

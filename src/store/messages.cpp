// The admin's view of the message log: filtered keyset pages, and one message with its
// decision, attempts and receipts.
#include "herald/store/messages.hpp"

#include <algorithm>
#include <charconv>

#include "herald/domain/phone.hpp"
#include "herald/domain/signed_token.hpp"
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

Json text_or_null(const pqxx::field& f) { return f.is_null() ? Json() : Json(f.c_str()); }
Json time_or_null(const pqxx::field& f) { return f.is_null() ? Json() : Json(format_time(time_of(f))); }
Json int_or_null(const pqxx::field& f) { return f.is_null() ? Json() : Json(f.as<std::int64_t>()); }

std::string encode_cursor(std::int64_t id) { return base64url_encode(std::to_string(id)); }

std::optional<std::int64_t> decode_cursor(std::string_view cursor) {
  const auto text = base64url_decode(cursor);
  if (!text || text->empty() || text->size() > 19) return std::nullopt;
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
  if (ec != std::errc() || end != text->data() + text->size() || id <= 0) return std::nullopt;
  return id;
}

// Provider payloads and decisions may repeat the recipient's address: mask it there too.
void mask_within(Json& j, const std::string& address, const std::string& masked) {
  if (j.is_string()) {
    if (j.get_ref<const std::string&>() == address) j = masked;
  } else if (j.is_structured()) {
    for (auto& child : j) mask_within(child, address, masked);
  }
}

std::optional<ApiError> check_enum_filter(const std::string& value, const char* field, bool known) {
  if (value.empty() || known) return std::nullopt;
  return invalid(field, "invalid_value", "unknown " + std::string(field) + " '" + value + "'");
}

// Intake stores only what the message's columns do not say (see rules::decide); the detail
// view shows the whole decision, the columns it was made with included.
void complete_decision(Json& m) {
  Json& d = m["decision"];
  if (!d.is_object()) return;
  auto fill = [&](const char* key, const Json& value) {
    if (!d.contains(key) && !value.is_null()) d[key] = value;
  };
  fill("event_type", m["type"]);
  fill("topic", m["topic"]);
  fill("channel", m["channel"]);
  fill("language", m["language"]);
  fill("decided_at", m["created_at"]);
  fill("send_at", m["not_before"]);
  fill("expires_at", m["expires_at"]);
  if (!d.contains("contact") && !m["contact_id"].is_null()) {
    d["contact"] = {{"id", m["contact_id"]}, {"address", m["address"]}};
    if (d.contains("consent")) d["contact"]["consent"] = d["consent"];
  }
}

}  // namespace

Result<MessagePage> list_messages(Database& db, const MessageFilter& f, bool reveal) {
  std::int64_t after = 0;
  if (!f.cursor.empty()) {
    auto id = decode_cursor(f.cursor);
    if (!id) return malformed("cursor", "invalid_cursor", "the cursor is not one this server issued");
    after = *id;
  }
  if (auto e = check_enum_filter(f.channel, "channel", parse_channel(f.channel).has_value())) return *e;
  if (auto e = check_enum_filter(f.topic, "topic", parse_topic(f.topic).has_value())) return *e;
  if (auto e = check_enum_filter(f.status, "status", parse_message_status(f.status).has_value())) return *e;
  const int limit = std::clamp(f.limit, 1, kMaxLimit);

  MessagePage page;
  with_connection(db, [&](pqxx::connection& c) {
    page = MessagePage{};
    pqxx::nontransaction n(c);
    // One row more than asked tells whether there is a next page.
    const auto rows = n.exec_params(kListMessages, f.customer_id, f.account_id, f.address, f.channel, f.type,
                                    f.topic, f.status, like_escape(f.q), f.from ? format_time(*f.from) : "",
                                    f.to ? format_time(*f.to) : "", after, limit + 1);
    for (const auto& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_cursor = encode_cursor(page.items.back()["id"].get<std::int64_t>());
        break;
      }
      const std::string address = row[5].c_str();
      page.items.push_back({{"id", row[0].as<std::int64_t>()},
                            {"created_at", format_time(time_of(row[1]))},
                            {"customer_id", row[2].c_str()},
                            {"account_id", row[3].c_str()},
                            {"channel", row[4].c_str()},
                            {"address", reveal ? address : mask_address(address)},
                            {"type", row[6].c_str()},
                            {"topic", row[7].c_str()},
                            {"status", row[8].c_str()},
                            {"suppression_reason", text_or_null(row[9])},
                            {"gateway", text_or_null(row[10])},
                            {"body_preview", row[11].c_str()},
                            {"event_id", row[12].c_str()},
                            {"attempts", row[13].as<int>()},
                            {"not_before", time_or_null(row[14])},
                            {"sent_at", time_or_null(row[15])}});
    }
  });
  return page;
}

std::optional<Json> get_message_detail(Database& db, std::int64_t id, bool reveal) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<Json> {
    const auto r = w.exec_params(kSelectMessage, id);
    if (r.empty()) return std::nullopt;
    const auto row = r[0];
    const std::string address = row[7].c_str();
    const std::string shown = reveal ? address : mask_address(address);
    Json m = {{"id", row[0].as<std::int64_t>()},
              {"event_seq", int_or_null(row[1])},
              {"event_id", row[2].c_str()},
              {"customer_id", row[3].c_str()},
              {"account_id", row[4].c_str()},
              {"contact_id", int_or_null(row[5])},
              {"channel", row[6].c_str()},
              {"address", shown},
              {"type", row[8].c_str()},
              {"topic", row[9].c_str()},
              {"language", row[10].c_str()},
              {"priority", row[11].as<int>()},
              {"urgent", row[12].as<bool>()},
              {"subject", row[13].c_str()},
              {"body", row[14].c_str()},
              {"html", row[15].c_str()},
              {"segments", row[16].as<int>()},
              {"encoding", row[17].c_str()},
              {"status", row[18].c_str()},
              {"suppression_reason", text_or_null(row[19])},
              {"decision", json_of(row[20])},
              {"not_before", time_or_null(row[21])},
              {"expires_at", time_or_null(row[22])},
              {"due_at", time_or_null(row[23])},
              {"attempt_count", row[24].as<int>()},
              {"gateway", text_or_null(row[25])},
              {"provider_id", text_or_null(row[26])},
              {"last_error", text_or_null(row[27])},
              {"created_at", format_time(time_of(row[28]))},
              {"updated_at", format_time(time_of(row[29]))},
              {"sent_at", time_or_null(row[30])},
              {"delivered_at", time_or_null(row[31])},
              {"conversation", nullptr}};

    Json attempts = Json::array();
    for (const auto& a : w.exec_params(kSelectAttempts, id)) {
      attempts.push_back({{"attempt", a[0].as<int>()},
                          {"gateway", a[1].c_str()},
                          {"started_at", format_time(time_of(a[2]))},
                          {"duration_ms", a[3].as<int>()},
                          {"outcome", a[4].c_str()},
                          {"http_status", int_or_null(a[5])},
                          {"error_code", text_or_null(a[6])},
                          {"detail", a[7].c_str()},
                          {"provider_id", text_or_null(a[8])}});
    }
    m["attempts"] = std::move(attempts);

    Json receipts = Json::array();
    for (const auto& rc : w.exec_params(kSelectReceipts, id)) {
      receipts.push_back({{"status", rc[0].c_str()},
                          {"error_code", text_or_null(rc[1])},
                          {"received_at", format_time(time_of(rc[2]))},
                          {"raw", json_of(rc[3])},
                          {"gateway", rc[4].c_str()}});
    }
    m["receipts"] = std::move(receipts);

    complete_decision(m);
    if (!reveal && !address.empty()) {
      mask_within(m["decision"], address, shown);
      mask_within(m["receipts"], address, shown);
    }
    return m;
  });
}

}  // namespace herald::store

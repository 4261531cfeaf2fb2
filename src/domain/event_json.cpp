// Events in API JSON: one POST /v1/events element, its JSON form and its idempotency hash.
#include "herald/domain/json_io.hpp"

#include "herald/domain/signed_token.hpp"

#include "json_read.hpp"

namespace herald {

using namespace json_read;

namespace {

bool is_event_id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

}  // namespace

// occurred_at is optional: when absent the Event keeps TimePoint{} (the Unix epoch), which
// every consumer reads as "unset" (the store then records the receive time).
Result<Event> parse_event(const Json& body) {
  if (!body.is_object()) return invalid("", "invalid_type", "the body must be a JSON object");
  Event e;
  if (auto err = read_required_string(body, "event_id", "event_id", e.event_id, kMaxIdLength)) return *err;
  for (char c : e.event_id) {
    if (!is_event_id_char(c)) {
      return invalid("event_id", "invalid_event_id",
                           "event_id may hold only letters, digits and . _ : -");
    }
  }
  if (auto err = read_required_string(body, "type", "type", e.type, kMaxIdLength)) return *err;
  // A notice.broadcast may name an area (data.target) instead of an account: without an
  // account_id it is an area notice, and the rules check its target. An outage.updated event
  // names its outage in data.outage_id and belongs to no account.
  const bool no_account = !body.contains("account_id") || body["account_id"].is_null();
  if ((e.type == "notice.broadcast" && no_account) || (e.type == "outage.updated" && no_account)) {
    // account_id stays empty
  } else if (auto err = read_required_string(body, "account_id", "account_id", e.account_id, kMaxIdLength)) {
    return *err;
  }
  if (auto it = body.find("occurred_at"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return wrong_type("occurred_at", "an RFC 3339 time string");
    auto t = parse_time(it->get_ref<const std::string&>());
    if (!t) {
      return invalid("occurred_at", "invalid_time",
                           "occurred_at must be an RFC 3339 time such as 2026-11-20T10:00:00Z");
    }
    e.occurred_at = *t;
  }
  if (auto it = body.find("data"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return wrong_type("data", "an object");
    e.data = *it;
  }
  return e;
}

Json to_json(const Event& e) {
  Json j = {{"event_id", e.event_id}, {"type", e.type}, {"data", e.data}};
  j["account_id"] = e.account_id.empty() ? Json(nullptr) : Json(e.account_id);
  j["occurred_at"] = e.occurred_at == TimePoint{} ? Json(nullptr) : Json(format_time(e.occurred_at));
  return j;
}

// nlohmann's default object type is a std::map, so dump() writes keys sorted: two bodies
// that differ only in key order or whitespace hash alike.
std::string event_body_hash(const Json& body) { return sha256_hex(body.dump()); }

}  // namespace herald

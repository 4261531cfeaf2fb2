// CIS events: one or a batch, idempotent on event_id; and an event's current view.
#include <set>

#include "handlers.hpp"
#include "herald/domain/json_io.hpp"
#include "herald/domain/outage.hpp"
#include "herald/http/views/events.hpp"
#include "herald/rules/area_notice.hpp"
#include "herald/rules/decide.hpp"
#include "herald/rules/event_data.hpp"
#include "herald/store/events.hpp"
#include "herald/store/customers.hpp"

namespace herald::http::handlers {

namespace {

constexpr std::size_t kMaxBatch = 1000;

// A known type and data that fits it; the shape is parse_event's, the account's existence is
// checked by the caller (one query per batch).
std::optional<ApiError> check_type_and_data(const Context& ctx, const Event& event) {
  // An outage change posted as an event gets the checks of PUT /v1/outages/{id}; the outage
  // loop applies it like a row a CIS inserted.
  if (event.type == "outage.updated") {
    if (!event.account_id.empty())
      return invalid("account_id", "unexpected_field", "an outage.updated event names its outage in data.outage_id, not an account");
    std::string outage_id;
    if (auto it = event.data.find("outage_id"); it != event.data.end() && it->is_string()) outage_id = it->get<std::string>();
    if (auto update = parse_outage_update(event.data, outage_id, "data."); !update) return update.error();
    return std::nullopt;
  }
  const auto rule = ctx.services.rules.types.find(event.type);
  if (rule == ctx.services.rules.types.end())
    return invalid("type", "unknown_event_type", "unknown event type '" + event.type + "'");
  if (auto bad = rules::validate_event_data(event.data, rule->second)) return bad;
  if (rules::is_area_notice(event)) {
    if (auto target = rules::parse_area_target(event.data); !target) return target.error();
  }
  return std::nullopt;
}

// Area notices and outage changes are about no one account.
bool without_account(const Event& event) { return rules::is_area_notice(event) || event.type == "outage.updated"; }

ApiError unknown_account(const std::string& id) {
  return invalid("account_id", "unknown_account", "no account '" + id + "'");
}

ApiError idempotency_conflict(const std::string& id) {
  return ApiError{ErrorKind::conflict, "idempotency_conflict",
                  "event_id '" + id + "' was already used with a different body", "event_id"};
}

}  // namespace

// Where an event seen before stands now: the original result of a repeated post.
Response original_result(const Context& ctx, const std::string& event_id) {
  auto view = store::get_event(ctx.services.db, event_id);
  if (!view) return json_response(200, Json{{"event_id", event_id}, {"status", "accepted"}});
  return json_response(200, views::event_json(*view));
}

Response post_event(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  auto event = parse_event(*body);
  if (!event) return error_response(event.error());
  store::EventInsert insert{*event, event_body_hash(*body)};

  auto refusal = check_type_and_data(ctx, *event);
  if (!refusal && !without_account(*event) &&
      store::existing_account_ids(ctx.services.db, {event->account_id}).empty())
    refusal = unknown_account(event->account_id);
  if (refusal) {
    // Idempotency answers first: a reused event_id is a conflict (or a repeat) whatever the
    // new body holds.
    const auto prior = store::stored_outcomes(ctx.services.db, {insert}).at(0);
    if (!prior) return error_response(*refusal);
    if (*prior == store::InsertOutcome::conflict)
      return error_response(idempotency_conflict(event->event_id));
    return original_result(ctx, event->event_id);
  }

  auto results = store::insert_events(ctx.services.db, {std::move(insert)});
  const auto& result = results.at(0);
  switch (result.outcome) {
    case store::InsertOutcome::accepted:
      return json_response(202, Json{{"event_id", result.event_id}, {"status", "accepted"}});
    case store::InsertOutcome::duplicate:
      return original_result(ctx, result.event_id);
    case store::InsertOutcome::conflict:
      return error_response(idempotency_conflict(result.event_id));
  }
  return error_response(idempotency_conflict(result.event_id));
}

Response post_event_batch(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  if (!body->is_object() || !body->contains("events") || !(*body)["events"].is_array())
    return error_response(invalid("events", "invalid", "expected {\"events\": [...]}"));
  const auto& items = (*body)["events"];
  if (items.size() > kMaxBatch)
    return error_response(invalid("events", "too_many_events",
                                        "at most " + std::to_string(kMaxBatch) + " events per batch"));

  struct Slot {
    Json result;
    std::optional<Event> event;  // parsed; empty when the item has no readable shape
    std::string hash;
    bool refused = false;        // invalid type, data or account: not stored
  };
  std::vector<Slot> slots(items.size());
  std::vector<std::string> accounts;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    auto& slot = slots[i];
    slot.result = {{"event_id", item.is_object() && item.contains("event_id") && item["event_id"].is_string()
                                    ? Json(item["event_id"]) : Json(nullptr)}};
    auto event = parse_event(item);
    if (!event) {
      slot.result["status"] = "rejected";
      slot.result["error"] = to_json(event.error())["error"];
      continue;
    }
    slot.hash = event_body_hash(item);
    if (auto refusal = check_type_and_data(ctx, *event)) {
      slot.result["status"] = "rejected";
      slot.result["error"] = to_json(*refusal)["error"];
      slot.refused = true;
    } else if (!without_account(*event)) {
      accounts.push_back(event->account_id);
    }
    slot.event = std::move(*event);
  }

  std::set<std::string> known;
  if (!accounts.empty()) {
    auto found = store::existing_account_ids(ctx.services.db, accounts);
    known.insert(found.begin(), found.end());
  }
  std::vector<store::EventInsert> inserts, refused;
  std::vector<std::size_t> insert_slot, refused_slot;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    auto& slot = slots[i];
    if (!slot.event) continue;
    if (!slot.refused && !without_account(*slot.event) && !known.count(slot.event->account_id)) {
      slot.result["status"] = "rejected";
      slot.result["error"] = to_json(unknown_account(slot.event->account_id))["error"];
      slot.refused = true;
    }
    (slot.refused ? refused : inserts).push_back({std::move(*slot.event), std::move(slot.hash)});
    (slot.refused ? refused_slot : insert_slot).push_back(i);
  }
  // Idempotency answers first, as for one event: a refused item whose event_id is taken is a
  // conflict, or a repeat of what is stored.
  if (!refused.empty()) {
    const auto prior = store::stored_outcomes(ctx.services.db, refused);
    for (std::size_t k = 0; k < refused.size(); ++k) {
      if (!prior[k]) continue;
      auto& out = slots[refused_slot[k]].result;
      if (*prior[k] == store::InsertOutcome::duplicate) {
        out["status"] = "duplicate";
        out.erase("error");
      } else {
        out["error"] = to_json(idempotency_conflict(refused[k].event.event_id))["error"];
      }
    }
  }
  if (!inserts.empty()) {
    auto results = store::insert_events(ctx.services.db, inserts);
    for (std::size_t k = 0; k < results.size() && k < insert_slot.size(); ++k) {
      auto& out = slots[insert_slot[k]].result;
      switch (results[k].outcome) {
        case store::InsertOutcome::accepted: out["status"] = "accepted"; break;
        case store::InsertOutcome::duplicate: out["status"] = "duplicate"; break;
        case store::InsertOutcome::conflict:
          out["status"] = "rejected";
          out["error"] = to_json(idempotency_conflict(results[k].event_id))["error"];
          break;
      }
    }
  }
  Json results = Json::array();
  for (auto& slot : slots) results.push_back(std::move(slot.result));
  return json_response(207, Json{{"results", std::move(results)}});
}

Response get_event(Context& ctx) {
  auto view = store::get_event(ctx.services.db, ctx.param("event_id"));
  if (!view) return error_response(ErrorKind::not_found, "event_not_found", "no such event");
  return json_response(200, views::event_json(*view));
}

}  // namespace herald::http::handlers

// Customers (the CIS's view), portal tokens, and preferences (the customer's own view).
#include "handlers.hpp"
#include "herald/domain/customer_token.hpp"
#include "herald/domain/json_io.hpp"
#include "herald/http/views/preferences.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/decide.hpp"
#include "herald/store/customer_batch.hpp"
#include "herald/store/customers.hpp"

namespace herald::http::handlers {

namespace {

constexpr std::size_t kMaxBatch = 1000;

ApiError customer_not_found() { return ApiError{ErrorKind::not_found, "customer_not_found", "no such customer", ""}; }

}  // namespace

Response put_customer(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  auto customer = parse_customer(*body, ctx.param("id"), ctx.config.default_region);
  if (!customer) return error_response(customer.error());
  auto stored = store::upsert_customer(ctx.services.db, *customer, ctx.services.rules.default_preferences, ctx.actor(),
                                       ctx.now);
  if (!stored) return error_response(stored.error());
  return json_response(200, to_json(*stored));
}

// Each customer stands alone: a rejected one (bad field, account held by another customer)
// leaves no rows and does not stop the others.
Response post_customer_batch(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  if (!body->is_object() || !body->contains("customers") || !(*body)["customers"].is_array())
    return error_response(invalid("customers", "invalid", "expected {\"customers\": [...]}"));
  const auto& items = (*body)["customers"];
  if (items.size() > kMaxBatch)
    return error_response(ApiError{ErrorKind::too_large, "too_many_customers",
                                   "at most " + std::to_string(kMaxBatch) + " customers per batch", "customers"});

  Json results = Json::array();
  std::vector<Customer> valid;
  std::vector<std::size_t> valid_slot;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    const auto id = item.is_object() ? item.find("customer_id") : item.end();
    Json result = Json::object();
    result["customer_id"] = id != item.end() && id->is_string() ? *id : Json(nullptr);
    results.push_back(std::move(result));
    auto customer = parse_customer_item(item, ctx.config.default_region);
    if (!customer) {
      results[i]["status"] = "rejected";
      results[i]["error"] = to_json(customer.error())["error"];
      continue;
    }
    valid.push_back(std::move(*customer));
    valid_slot.push_back(i);
  }
  const auto merged = store::merge_customers(ctx.services.db, valid, ctx.services.rules.default_preferences,
                                             ctx.actor(), ctx.now);
  for (std::size_t k = 0; k < merged.size(); ++k) {
    auto& result = results[valid_slot[k]];
    result["status"] = std::string(store::to_string(merged[k].status));
    if (merged[k].error) result["error"] = to_json(*merged[k].error)["error"];
  }
  return json_response(200, Json{{"results", std::move(results)}});
}

Response get_customer(Context& ctx) {
  auto customer = store::get_customer(ctx.services.db, ctx.param("id"));
  if (!customer) return error_response(customer_not_found());
  return json_response(200, to_json(*customer));
}

Response create_portal_token(Context& ctx) {
  const auto& id = ctx.param("id");
  if (!store::get_customer(ctx.services.db, id)) return error_response(customer_not_found());
  const auto expires_at = std::chrono::floor<Seconds>(ctx.now) + ctx.config.customer_token_ttl;
  auto token = issue_customer_token(ctx.services.token_secret.value, id, expires_at);
  return json_response(200, Json{{"token", token},
                                 {"expires_at", format_time(expires_at)},
                                 {"url", "/portal/#token=" + token}});
}

Response get_preferences(Context& ctx) {
  auto view = store::get_preferences(ctx.services.db, ctx.param("id"));
  if (!view) return error_response(customer_not_found());
  return json_response(200, views::preferences_json(*view));
}

Response put_preferences(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  auto prefs = parse_preferences(*body);
  if (!prefs) return error_response(prefs.error());
  auto view = store::put_preferences(ctx.services.db, ctx.param("id"), *prefs, ctx.actor(), ctx.now);
  if (!view) return error_response(view.error());
  return json_response(200, views::preferences_json(*view));
}

}  // namespace herald::http::handlers

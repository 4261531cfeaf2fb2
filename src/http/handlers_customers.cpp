// Customers (the CIS's view), portal tokens, and preferences (the customer's own view).
#include "handlers.hpp"
#include "herald/domain/customer_token.hpp"
#include "herald/domain/json_io.hpp"
#include "herald/http/views/preferences.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/decide.hpp"
#include "herald/store/customers.hpp"

namespace herald::http::handlers {

namespace {

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

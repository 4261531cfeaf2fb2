// Outages (cis | admin): create or change one, read it with its counts and history, list them.
#include "handlers.hpp"
#include "herald/domain/outage.hpp"
#include "herald/http/views/cursor.hpp"
#include "herald/http/views/outages.hpp"
#include "herald/store/outages.hpp"

namespace herald::http::handlers {

Response put_outage(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  auto update = parse_outage_update(*body, ctx.param("outage_id"));
  if (!update) return error_response(update.error());
  // The engine judges what to tell and fans it out (woken by NOTIFY herald_outages): the
  // request only stores the change.
  auto stored = store::put_outage(ctx.services.db, *update, ctx.actor(), "api", ctx.now);
  if (!stored) return error_response(stored.error());
  return json_response(stored->created ? 201 : 200, views::outage_json(stored->outage));
}

Response get_outage(Context& ctx) {
  auto detail = store::get_outage(ctx.services.db, ctx.param("outage_id"));
  if (!detail) return error_response(ErrorKind::not_found, "outage_not_found", "no such outage");
  return json_response(200, views::outage_detail_json(*detail));
}

Response list_outages(Context& ctx) {
  store::OutageListFilter filter;
  const auto status = ctx.query_value("status");
  if (status == "all") filter.active_only = false;
  else if (!status.empty() && status != "active")
    return error_response(invalid("status", "invalid_status", "status must be active or all"));
  auto times = time_filter(ctx);
  if (!times) return error_response(times.error());
  auto page = page_params(ctx);
  if (!page) return error_response(page.error());
  filter.from = times->from;
  filter.to = times->to;
  filter.limit = page->limit;
  filter.before_seq = page->before_id;
  const auto found = store::list_outages(ctx.services.db, filter);
  Json items = Json::array();
  for (const auto& o : found.items) items.push_back(views::outage_json(o));
  return json_response(200, {{"items", std::move(items)},
                             {"next_cursor", found.next_before_seq ? Json(views::encode_cursor(*found.next_before_seq))
                                                                   : Json(nullptr)}});
}

}  // namespace herald::http::handlers

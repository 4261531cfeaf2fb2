// Admin console reads: customer search (masked unless revealed and audited) and the gateway report.
#include "handlers.hpp"
#include "herald/domain/phone.hpp"
#include "herald/domain/text.hpp"
#include "herald/http/views/console.hpp"
#include "herald/store/audit.hpp"
#include "herald/store/customer_search.hpp"
#include "herald/store/gateway_report.hpp"

namespace herald::http::handlers {

namespace {

constexpr std::size_t kMaxQuery = 200;

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

}  // namespace

Response search_customers(Context& ctx) {
  store::CustomerSearch s;
  s.text = trimmed(ctx.query_value("q"));
  if (auto bad = reject_bad_text(s.text, "q")) return error_response(*bad);
  if (s.text.empty()) return error_response(invalid("q", "required", "q is required: a name, phone, email or id"));
  if (s.text.size() > kMaxQuery)
    return error_response(invalid("q", "too_long", "q is at most " + std::to_string(kMaxQuery) + " characters"));
  // The same text may be a phone number or an email as well as a name or an id: each is looked
  // up the way it is stored.
  if (s.text.find('@') != std::string::npos) {
    if (auto email = normalize_email(s.text)) s.email = *email;
  } else if (auto phone = to_e164(s.text, ctx.config.default_region)) {
    s.phone = *phone;
  }
  auto limit = page_limit(ctx);
  if (!limit) return error_response(limit.error());
  s.limit = *limit;
  if (auto cursor = ctx.query_value("cursor"); !cursor.empty()) {
    auto after = views::decode_customer_cursor(cursor);
    if (!after || !valid_utf8(*after) || has_control_character(*after)) return error_response(malformed("cursor", "invalid_cursor", "the cursor is not one this server issued"));
    s.after_customer_id = *after;
  }
  const auto reveal = ctx.query_value("reveal");
  const bool revealed = reveal == "1" || reveal == "true";
  const auto page = store::search_customers(ctx.services.db, s);
  if (revealed) {
    store::audit(ctx.services.db, ctx.actor(), "customers.reveal", "customers",
                 Json{{"query", std::string(ctx.request.query_string())}, {"count", page.items.size()}});
  }
  return json_response(200, views::customer_search_json(page, revealed));
}

Response gateway_report(Context& ctx) {
  auto range = report_range(ctx);
  if (!range) return error_response(range.error());
  return json_response(200, views::gateway_report_json(store::gateway_report(ctx.services.db, range->from, range->to),
                                                       range->from, range->to));
}

}  // namespace herald::http::handlers

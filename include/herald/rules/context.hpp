// The data templates see: customer, account, event data with formatted amounts and dates, utility.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/rules/decide.hpp"

namespace herald::rules {

// {customer: {id, name, first_name}, account: {id, id_masked, last4, timezone,
//  service_address: {line1, line2, city, state, zip, one_line}}, event: {id, type},
//  data: event data verbatim plus, for each top-level key, <key>_formatted when it is
//   - money (declared so, or undeclared and ending in "amount" or "_due"): "$1,234.50";
//   - a date (declared so, or ending in "_date"; YYYY-MM-DD or an RFC 3339 time, read in the
//     account's zone): "December 10, 2026" / "10 de diciembre de 2026";
//   - a time (declared datetime, or ending in "_at"; RFC 3339): "December 10, 2026 at 3:30 PM
//     CST" / "10 de diciembre de 2026 a las 15:30";
//  utility: {name, phone, url}, language}
// Values that cannot be read as money, date or time get no _formatted key.
Json template_context(const Event& e, const RecipientContext& r, const RulesConfig& cfg, std::string_view language);

// Formatting helpers, exposed for tests and other message builders.
std::optional<std::string> format_money(const Json& value);  // "82.17" or 82.17 -> "$82.17"
// The amount in cents that format_money would print: "1,234.5", "$12", 12.345 (rounded half
// away from zero); nothing for text that is not an amount or a magnitude of 10^13 or more.
std::optional<std::int64_t> money_cents(const Json& value);
std::optional<std::string> format_long_date(std::string_view yyyy_mm_dd_or_time, std::string_view tz,
                                            std::string_view language);
std::optional<std::string> format_long_time(std::string_view rfc3339, std::string_view tz, std::string_view language);

}  // namespace herald::rules

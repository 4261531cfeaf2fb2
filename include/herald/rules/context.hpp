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
//   - money (the key ends in "amount", "_due" or "_amount"): "$1,234.50";
//   - a date (ends in "_date"; YYYY-MM-DD or an RFC 3339 time, read in the account's zone):
//     "December 10, 2026" / "10 de diciembre de 2026";
//   - a time (ends in "_at"; RFC 3339): "December 10, 2026 at 3:30 PM CST" / "10 de diciembre
//     de 2026 a las 15:30";
//  utility: {name, phone, url}, language}
// Values that cannot be read as money, date or time get no _formatted key.
Json template_context(const Event& e, const RecipientContext& r, const RulesConfig& cfg, std::string_view language);

// Formatting helpers, exposed for tests and other message builders.
std::optional<std::string> format_money(const Json& value);  // "82.17" or 82.17 -> "$82.17"
std::optional<std::string> format_long_date(std::string_view yyyy_mm_dd_or_time, std::string_view tz,
                                            std::string_view language);
std::optional<std::string> format_long_time(std::string_view rfc3339, std::string_view tz, std::string_view language);

}  // namespace herald::rules

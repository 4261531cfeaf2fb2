// Event data checked against the fields its type declares, and templates against those fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "herald/rules/decide.hpp"
#include "herald/rules/templates.hpp"

namespace herald::rules {

// The first problem with an event's data, naming the field ("data.amount_due"), or nothing
// when every declared field holds a value of its kind and every required one is there:
// - money: an amount format_money prints (a string such as "82.17" or "1,234.50", or a JSON
//   number), at most `max`, not below zero unless `negative`;
// - number / integer: a JSON number or a decimal string, finite, at most `max` in magnitude;
// - date: YYYY-MM-DD (or an RFC 3339 time); datetime: an RFC 3339 time;
// - url: http:// or https://, no spaces; text: a string without control characters (line
//   breaks and tabs only when `multiline`); choice: one of `choices`.
// A required field may not be absent, null or empty; an optional one may be any of these.
// Undeclared fields are kept (no template may use them: check-config) if their text holds no
// control characters other than line breaks and tabs.
std::optional<ApiError> validate_event_data(const Json& data, const EventTypeRule& rule);

std::string_view to_string(DataKind kind);
std::optional<DataKind> parse_data_kind(std::string_view name);

// One line per template variable under data.* that the template's event type does not declare
// (or <field>_formatted for a field whose kind is not money, date or datetime), e.g.
// "en/bill.ready.sms: data.amonut_due_formatted is not a declared field of bill.ready".
std::vector<std::string> undeclared_template_variables(const TemplateStore& templates, const RulesConfig& cfg);

}  // namespace herald::rules

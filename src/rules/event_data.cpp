// Event data against its type's declared fields: kinds, required fields, limits; template variables.
#include "herald/rules/event_data.hpp"

#include <cmath>
#include <cstdlib>

#include "herald/domain/text.hpp"
#include "herald/rules/context.hpp"

namespace herald::rules {

namespace {

constexpr std::size_t kMaxNumberText = 32;

ApiError must_be(const std::string& field, const std::string& what) {
  return invalid(field, "invalid_data", field + " must be " + what);
}

bool is_blank(const Json& value) {
  return value.is_null() || (value.is_string() && value.get_ref<const std::string&>().empty());
}

// A plain decimal ("12", "-3.5"): what number and integer fields accept as text. Exponents,
// "NaN" and "inf" are not numbers a customer should read.
std::optional<double> decimal_text(const std::string& s, bool integer) {
  if (s.empty() || s.size() > kMaxNumberText) return std::nullopt;
  std::size_t i = s[0] == '-' ? 1 : 0;
  std::size_t digits = 0, dots = 0;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') ++digits;
    else if (s[i] == '.' && !integer && ++dots == 1) continue;
    else return std::nullopt;
  }
  if (digits == 0 || s.back() == '.') return std::nullopt;
  return std::strtod(s.c_str(), nullptr);
}

std::optional<double> number_of(const Json& value, bool integer) {
  if (value.is_string()) return decimal_text(value.get_ref<const std::string&>(), integer);
  if (integer && !value.is_number_integer()) return std::nullopt;
  if (!value.is_number()) return std::nullopt;
  const double v = value.get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

bool is_url(const std::string& s) {
  const std::size_t scheme = s.starts_with("https://") ? 8 : s.starts_with("http://") ? 7 : 0;
  if (scheme == 0 || s.size() == scheme) return false;
  return s.find(' ') == std::string::npos && !has_control_character(s);
}

std::optional<ApiError> check_field(const Json& value, const DataField& spec, const std::string& field) {
  switch (spec.kind) {
    case DataKind::money: {
      const auto cents = money_cents(value);
      if (!cents) return must_be(field, "an amount of money such as \"82.17\"");
      if (*cents < 0 && !spec.negative) return must_be(field, "an amount of money not below zero");
      if (std::fabs(static_cast<double>(*cents)) > spec.max * 100)
        return must_be(field, "an amount of money of at most " +
                                  format_money(Json(spec.max)).value_or(Json(spec.max).dump()));
      return std::nullopt;
    }
    case DataKind::number:
    case DataKind::integer: {
      const bool integer = spec.kind == DataKind::integer;
      const auto v = number_of(value, integer);
      if (!v) return must_be(field, integer ? "a whole number such as 42" : "a number such as 12.5");
      if (*v < 0 && !spec.negative) return must_be(field, "a number not below zero");
      if (std::fabs(*v) > spec.max) return must_be(field, "a number of at most " + Json(spec.max).dump());
      return std::nullopt;
    }
    case DataKind::date:
      if (!value.is_string() || !format_long_date(value.get_ref<const std::string&>(), "UTC", "en"))
        return must_be(field, "a date YYYY-MM-DD such as \"2026-12-10\"");
      return std::nullopt;
    case DataKind::datetime:
      if (!value.is_string() || !parse_time(value.get_ref<const std::string&>()))
        return must_be(field, "an RFC 3339 time such as \"2026-11-20T10:00:00Z\"");
      return std::nullopt;
    case DataKind::url:
      if (!value.is_string() || !is_url(value.get_ref<const std::string&>()))
        return must_be(field, "an http:// or https:// URL without spaces");
      break;
    case DataKind::choice: {
      if (!value.is_string()) return must_be(field, "a string");
      const auto& s = value.get_ref<const std::string&>();
      for (const auto& choice : spec.choices) {
        if (s == choice) return std::nullopt;
      }
      std::string listed;
      for (const auto& choice : spec.choices) listed += (listed.empty() ? "" : ", ") + choice;
      return must_be(field, "one of: " + listed);
    }
    case DataKind::text:
      if (!value.is_string()) return must_be(field, "a string");
      if (auto bad = reject_control_characters(value.get_ref<const std::string&>(), field, spec.multiline)) return bad;
      break;
  }
  if (value.get_ref<const std::string&>().size() > spec.max_length) {
    return invalid(field, "too_long", field + " is longer than " + std::to_string(spec.max_length));
  }
  return std::nullopt;
}

ApiError key_with_control_character(const std::string& field) {
  return invalid(field, "control_character", field + " has a key holding a control character");
}

// Undeclared data is kept as given, but a NUL cannot be stored (jsonb refuses it) and other
// control characters have no business in a message: text anywhere in it may hold line breaks
// and tabs only. Keys are checked too.
std::optional<ApiError> check_undeclared(const Json& value, const std::string& field) {
  if (value.is_string()) return reject_control_characters(value.get_ref<const std::string&>(), field, true);
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (has_control_character(key)) return key_with_control_character(field);
      if (auto bad = check_undeclared(item, field + "." + key)) return bad;
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (auto bad = check_undeclared(value[i], field + "[" + std::to_string(i) + "]")) return bad;
    }
  }
  return std::nullopt;
}

bool has_formatted_form(DataKind kind) {
  return kind == DataKind::money || kind == DataKind::date || kind == DataKind::datetime;
}

}  // namespace

std::optional<ApiError> validate_event_data(const Json& data, const EventTypeRule& rule) {
  if (!data.is_null() && !data.is_object()) return invalid("data", "invalid_data", "data must be a JSON object");
  for (const auto& [name, spec] : rule.data) {
    const std::string field = "data." + name;
    const auto it = data.is_object() ? data.find(name) : data.end();
    const bool absent = !data.is_object() || it == data.end() || it->is_null();
    if (absent || is_blank(*it)) {
      if (spec.required) return invalid(field, "required", field + " is required for " + rule.type);
      continue;  // an optional field left empty: its template section stays out
    }
    if (auto bad = check_field(*it, spec, field)) return bad;
  }
  if (data.is_object()) {
    for (const auto& [name, value] : data.items()) {
      if (rule.data.count(name)) continue;
      if (has_control_character(name)) return key_with_control_character("data");
      if (auto bad = check_undeclared(value, "data." + name)) return bad;
    }
  }
  return std::nullopt;
}

std::string_view to_string(DataKind kind) {
  switch (kind) {
    case DataKind::text: return "text";
    case DataKind::money: return "money";
    case DataKind::number: return "number";
    case DataKind::integer: return "integer";
    case DataKind::date: return "date";
    case DataKind::datetime: return "datetime";
    case DataKind::url: return "url";
    case DataKind::choice: return "choice";
  }
  return "text";
}

std::optional<DataKind> parse_data_kind(std::string_view name) {
  for (DataKind k : {DataKind::text, DataKind::money, DataKind::number, DataKind::integer, DataKind::date,
                     DataKind::datetime, DataKind::url, DataKind::choice}) {
    if (to_string(k) == name) return k;
  }
  return std::nullopt;
}

std::vector<std::string> undeclared_template_variables(const TemplateStore& templates, const RulesConfig& cfg) {
  std::vector<std::string> out;
  for (const auto& usage : templates.usages()) {
    const auto type = cfg.types.find(usage.type);
    for (const auto& variable : usage.variables) {
      if (!variable.starts_with("data.")) continue;
      std::string name = variable.substr(5);
      bool formatted = false;
      if (type != cfg.types.end() && !type->second.data.count(name) && name.ends_with("_formatted")) {
        name.resize(name.size() - std::string_view("_formatted").size());
        formatted = true;
      }
      const DataField* spec = nullptr;
      if (type != cfg.types.end()) {
        if (auto it = type->second.data.find(name); it != type->second.data.end()) spec = &it->second;
      }
      if (!spec) {
        out.push_back(usage.name + ": " + variable + " is not a declared field of " + usage.type);
      } else if (formatted && !has_formatted_form(spec->kind)) {
        out.push_back(usage.name + ": " + variable + ": data." + name + " is " + std::string(to_string(spec->kind)) +
                      ", which has no _formatted form (money, date and datetime do)");
      }
    }
  }
  return out;
}

}  // namespace herald::rules

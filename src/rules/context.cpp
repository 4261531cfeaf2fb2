// Template context: recipient, account and event data, with money and dates formatted per language.
#include "herald/rules/context.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <date/date.h>
#include <date/tz.h>

namespace herald::rules {

namespace {

constexpr std::array<const char*, 12> kMonthsEn = {"January", "February", "March",     "April",   "May",      "June",
                                                   "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<const char*, 12> kMonthsEs = {"enero", "febrero", "marzo",      "abril",   "mayo",      "junio",
                                                   "julio", "agosto",  "septiembre", "octubre", "noviembre", "diciembre"};

bool is_spanish(std::string_view language) { return language.substr(0, language.find('-')) == "es"; }

bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

const date::time_zone* zone_or_utc(std::string_view tz) {
  try {
    return date::locate_zone(tz);
  } catch (const std::runtime_error&) {
    return date::locate_zone("UTC");
  }
}

std::optional<date::year_month_day> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (std::size_t i = starts[p]; i < starts[p] + lengths[p]; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      parts[p] = parts[p] * 10 + (s[i] - '0');
    }
  }
  date::year_month_day ymd{date::year{parts[0]}, date::month{static_cast<unsigned>(parts[1])},
                           date::day{static_cast<unsigned>(parts[2])}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::string long_date(const date::year_month_day& ymd, std::string_view language) {
  unsigned m = static_cast<unsigned>(ymd.month());
  unsigned d = static_cast<unsigned>(ymd.day());
  int y = static_cast<int>(ymd.year());
  if (is_spanish(language)) return std::to_string(d) + " de " + kMonthsEs[m - 1] + " de " + std::to_string(y);
  return std::string(kMonthsEn[m - 1]) + " " + std::to_string(d) + ", " + std::to_string(y);
}

std::string with_thousands(std::int64_t whole) {
  std::string digits = std::to_string(whole);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

// "1234.5", "-12", "$1,234.567" -> cents, rounding half away from zero.
std::optional<std::int64_t> parse_cents(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (!s.empty() && s.front() == '$') s.remove_prefix(1);
  std::int64_t whole = 0;
  int digits = 0;
  std::size_t i = 0;
  for (; i < s.size() && s[i] != '.'; ++i) {
    if (s[i] == ',') continue;
    if (s[i] < '0' || s[i] > '9' || ++digits > 13) return std::nullopt;
    whole = whole * 10 + (s[i] - '0');
  }
  int frac[3] = {0, 0, 0};
  if (i < s.size()) {
    ++i;
    if (i == s.size()) return std::nullopt;
    for (int k = 0; i < s.size(); ++i, ++k) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      if (k < 3) frac[k] = s[i] - '0';
    }
  }
  if (digits == 0) return std::nullopt;
  std::int64_t cents = whole * 100 + frac[0] * 10 + frac[1] + (frac[2] >= 5 ? 1 : 0);
  return negative ? -cents : cents;
}

}  // namespace

std::optional<std::int64_t> money_cents(const Json& value) {
  if (value.is_string()) return parse_cents(value.get_ref<const std::string&>());
  if (value.is_number_unsigned()) {
    auto v = value.get<std::uint64_t>();
    if (v < 10'000'000'000'000ULL) return static_cast<std::int64_t>(v) * 100;
  } else if (value.is_number_integer()) {
    auto v = value.get<std::int64_t>();
    if (std::llabs(v) < 10'000'000'000'000LL) return v * 100;
  } else if (value.is_number_float()) {
    double v = value.get<double>();
    if (std::isfinite(v) && std::fabs(v) < 1e13) return std::llround(v * 100);
  }
  return std::nullopt;
}

std::optional<std::string> format_money(const Json& value) {
  const std::optional<std::int64_t> cents = money_cents(value);
  if (!cents) return std::nullopt;
  std::int64_t abs_cents = *cents < 0 ? -*cents : *cents;
  char frac[4];
  std::snprintf(frac, sizeof frac, "%02d", static_cast<int>(abs_cents % 100));
  return std::string(*cents < 0 ? "-$" : "$") + with_thousands(abs_cents / 100) + "." + frac;
}

std::optional<std::string> format_long_date(std::string_view text, std::string_view tz, std::string_view language) {
  if (auto ymd = parse_date(text)) return long_date(*ymd, language);
  auto t = parse_time(text);
  if (!t) return std::nullopt;
  auto local = zone_or_utc(tz)->to_local(date::floor<std::chrono::seconds>(*t));
  return long_date(date::year_month_day{date::floor<date::days>(local)}, language);
}

std::optional<std::string> format_long_time(std::string_view text, std::string_view tz, std::string_view language) {
  auto t = parse_time(text);
  if (!t) return std::nullopt;
  const date::time_zone* zone = zone_or_utc(tz);
  auto secs = date::floor<std::chrono::seconds>(*t);
  auto local = zone->to_local(secs);
  auto day = date::floor<date::days>(local);
  date::hh_mm_ss<std::chrono::seconds> hms{local - day};
  int h = static_cast<int>(hms.hours().count());
  int m = static_cast<int>(hms.minutes().count());
  std::string date_text = long_date(date::year_month_day{day}, language);
  char buf[32];
  if (is_spanish(language)) {
    std::snprintf(buf, sizeof buf, "%02d:%02d", h, m);
    return date_text + " a las " + buf;
  }
  std::snprintf(buf, sizeof buf, "%d:%02d %s", h % 12 == 0 ? 12 : h % 12, m, h < 12 ? "AM" : "PM");
  return date_text + " at " + buf + " " + zone->get_info(secs).abbrev;
}

Json template_context(const Event& e, const RecipientContext& r, const RulesConfig& cfg, std::string_view language) {
  const Customer& c = r.customer;
  std::string first_name = c.name.substr(0, c.name.find(' '));
  const Account& a = r.account;
  std::string id = a.account_id;
  std::string last4 = id.size() > 4 ? id.substr(id.size() - 4) : id;
  std::string masked = id.size() > 4 ? "****" + last4 : id;
  const ServiceAddress& sa = a.service_address;
  std::string one_line = sa.line1;
  if (!sa.line2.empty()) one_line += ", " + sa.line2;
  if (!sa.city.empty()) one_line += ", " + sa.city;
  if (!sa.state.empty()) one_line += ", " + sa.state;
  if (!sa.zip.empty()) one_line += " " + sa.zip;

  Json data = e.data.is_object() ? e.data : Json::object();
  const Json& source = e.data.is_object() ? e.data : data;  // data is the empty object then
  const auto type = cfg.types.find(e.type);
  for (const auto& [key, value] : source.items()) {
    // A declared field is formatted by its kind; an undeclared one by its name's ending.
    std::optional<DataKind> kind;
    if (type != cfg.types.end()) {
      if (auto field = type->second.data.find(key); field != type->second.data.end()) kind = field->second.kind;
    }
    if (!kind) {
      if (ends_with(key, "amount") || ends_with(key, "_due")) kind = DataKind::money;
      else if (ends_with(key, "_date")) kind = DataKind::date;
      else if (ends_with(key, "_at")) kind = DataKind::datetime;
    }
    std::optional<std::string> formatted;
    if (kind == DataKind::money) {
      formatted = format_money(value);
    } else if (kind == DataKind::date && value.is_string()) {
      formatted = format_long_date(value.get_ref<const std::string&>(), a.timezone, language);
    } else if (kind == DataKind::datetime && value.is_string()) {
      formatted = format_long_time(value.get_ref<const std::string&>(), a.timezone, language);
    }
    if (formatted) data[key + "_formatted"] = *formatted;
  }

  return {{"customer", {{"id", c.customer_id}, {"name", c.name}, {"first_name", first_name}}},
          {"account",
           {{"id", id},
            {"id_masked", masked},
            {"last4", last4},
            {"timezone", a.timezone},
            {"service_address",
             {{"line1", sa.line1},
              {"line2", sa.line2},
              {"city", sa.city},
              {"state", sa.state},
              {"zip", sa.zip},
              {"one_line", one_line}}}}},
          {"event", {{"id", e.event_id}, {"type", e.type}}},
          {"data", std::move(data)},
          {"utility", {{"name", cfg.utility_name}, {"phone", cfg.utility_phone}, {"url", cfg.utility_url}}},
          {"language", std::string(language)}};
}

}  // namespace herald::rules

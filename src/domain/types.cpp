// Names of the domain enums, status ranks, and the text forms of times.
#include "herald/domain/types.hpp"

#include <array>
#include <cstdio>

#include <date/date.h>

namespace herald {

namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> parse_enum(std::string_view s, const std::array<std::pair<std::string_view, Enum>, N>& names) {
  for (const auto& [name, value] : names) {
    if (name == s) return value;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<std::string_view, Channel>, 3> kChannelNames{{
    {"sms", Channel::sms}, {"email", Channel::email}, {"voice", Channel::voice}}};
constexpr std::array<std::pair<std::string_view, Topic>, 3> kTopicNames{{
    {"billing", Topic::billing}, {"outage", Topic::outage}, {"other", Topic::other}}};
constexpr std::array<std::pair<std::string_view, MessageStatus>, 8> kStatusNames{{
    {"scheduled", MessageStatus::scheduled},
    {"queued", MessageStatus::queued},
    {"sending", MessageStatus::sending},
    {"sent", MessageStatus::sent},
    {"delivered", MessageStatus::delivered},
    {"undelivered", MessageStatus::undelivered},
    {"failed", MessageStatus::failed},
    {"suppressed", MessageStatus::suppressed}}};
constexpr std::array<std::pair<std::string_view, ConsentState>, 2> kConsentNames{{
    {"opted_in", ConsentState::opted_in}, {"opted_out", ConsentState::opted_out}}};
constexpr std::array<std::pair<std::string_view, EventStatus>, 3> kEventStatusNames{{
    {"accepted", EventStatus::accepted},
    {"processed", EventStatus::processed},
    {"rejected", EventStatus::rejected}}};

template <typename Enum, std::size_t N>
std::string_view name_of(Enum e, const std::array<std::pair<std::string_view, Enum>, N>& names) {
  for (const auto& [name, value] : names) {
    if (value == e) return name;
  }
  return "unknown";
}

// Reads exactly `n` decimal digits at `pos`; advances pos.
bool read_digits(std::string_view s, std::size_t& pos, int n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool expect_char(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string_view to_string(Channel c) { return name_of(c, kChannelNames); }
std::string_view to_string(Topic t) { return name_of(t, kTopicNames); }
std::optional<Channel> parse_channel(std::string_view s) { return parse_enum(s, kChannelNames); }
std::optional<Topic> parse_topic(std::string_view s) { return parse_enum(s, kTopicNames); }

std::string_view to_string(MessageStatus s) { return name_of(s, kStatusNames); }
std::optional<MessageStatus> parse_message_status(std::string_view s) {
  return parse_enum(s, kStatusNames);
}

// The terminal statuses share the top rank: once a message is delivered, failed,
// undelivered or suppressed, no later report may move it anywhere else "forward".
int status_rank(MessageStatus s) {
  switch (s) {
    case MessageStatus::scheduled: return 0;
    case MessageStatus::queued: return 1;
    case MessageStatus::sending: return 2;
    case MessageStatus::sent: return 3;
    case MessageStatus::delivered:
    case MessageStatus::undelivered:
    case MessageStatus::failed:
    case MessageStatus::suppressed: return 4;
  }
  return 0;
}

std::string_view to_string(ConsentState s) { return name_of(s, kConsentNames); }
std::optional<ConsentState> parse_consent_state(std::string_view s) {
  return parse_enum(s, kConsentNames);
}

std::string_view to_string(EventStatus s) { return name_of(s, kEventStatusNames); }
std::optional<EventStatus> parse_event_status(std::string_view s) {
  return parse_enum(s, kEventStatusNames);
}

std::optional<LocalTime> parse_local_time(std::string_view hh_mm) {
  std::size_t pos = 0;
  int h = 0, m = 0;
  if (hh_mm.size() != 5 || !read_digits(hh_mm, pos, 2, h) || !expect_char(hh_mm, pos, ':') ||
      !read_digits(hh_mm, pos, 2, m)) {
    return std::nullopt;
  }
  if (h > 23 || m > 59) return std::nullopt;
  return LocalTime{h * 60 + m};
}

std::string format_local_time(LocalTime t) {
  char buf[8];
  int m = ((t.minutes % 1440) + 1440) % 1440;
  std::snprintf(buf, sizeof buf, "%02d:%02d", m / 60, m % 60);
  return buf;
}

std::string format_time(TimePoint t) {
  auto day = date::floor<date::days>(t);
  date::year_month_day ymd{day};
  auto since_midnight = t - day;
  auto secs = std::chrono::floor<Seconds>(since_midnight);
  auto micros = (since_midnight - secs).count();
  date::hh_mm_ss<Seconds> hms{secs};
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                        static_cast<int>(hms.seconds().count()));
  std::string out(buf, n);
  if (micros != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(micros));
    out += buf;
  }
  out += 'Z';
  return out;
}

// RFC 3339 date-time. Also accepts the forms Postgres prints for timestamptz (a space
// instead of 'T', an offset of "+hh" without minutes) so the store can reuse it.
std::optional<TimePoint> parse_time(std::string_view s) {
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (!read_digits(s, pos, 4, y) || !expect_char(s, pos, '-') || !read_digits(s, pos, 2, mo) ||
      !expect_char(s, pos, '-') || !read_digits(s, pos, 2, d)) {
    return std::nullopt;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, h) || !expect_char(s, pos, ':') || !read_digits(s, pos, 2, mi) ||
      !expect_char(s, pos, ':') || !read_digits(s, pos, 2, se)) {
    return std::nullopt;
  }
  std::int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');  // beyond microseconds: truncated
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 6; ++i) micros *= 10;
  }
  if (pos >= s.size()) return std::nullopt;  // an offset is required
  int offset_minutes = 0;
  char c = s[pos];
  if (c == 'Z' || c == 'z') {
    ++pos;
  } else if (c == '+' || c == '-') {
    ++pos;
    int oh = 0, om = 0;
    if (!read_digits(s, pos, 2, oh)) return std::nullopt;
    if (pos < s.size()) {
      if (!expect_char(s, pos, ':') || !read_digits(s, pos, 2, om)) return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset_minutes = (oh * 60 + om) * (c == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (h > 23 || mi > 59 || se > 59) return std::nullopt;
  date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                           date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  TimePoint t = TimePoint(date::sys_days{ymd}.time_since_epoch()) + std::chrono::hours(h) +
                std::chrono::minutes(mi) + Seconds(se) + std::chrono::microseconds(micros) -
                std::chrono::minutes(offset_minutes);
  return t;
}

}  // namespace herald

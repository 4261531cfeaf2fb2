// The send window and quiet hours in local time, with the DST gaps and overlaps resolved.
#include "herald/rules/send_window.hpp"

#include <array>
#include <bitset>
#include <stdexcept>

#include <date/date.h>
#include <date/tz.h>

namespace herald::rules {

namespace {

constexpr int kMinutesPerDay = 24 * 60;
using MinuteSet = std::bitset<kMinutesPerDay>;

const date::time_zone* zone_of(std::string_view tz) {
  try {
    return date::locate_zone(tz);
  } catch (const std::runtime_error&) {
    throw std::invalid_argument("unknown time zone: " + std::string(tz));
  }
}

// Minutes of [start, end), wrapping midnight when end < start; empty when start == end.
MinuteSet span(LocalTime start, LocalTime end) {
  MinuteSet s;
  for (int m = start.minutes; m != end.minutes; m = (m + 1) % kMinutesPerDay) s.set(m);
  return s;
}

MinuteSet allowed_minutes(const QuietHours& qh, const SendWindow& window) {
  MinuteSet in_window = window.start == window.end ? MinuteSet().set() : span(window.start, window.end);
  if (!qh.enabled) return in_window;
  MinuteSet allowed = in_window & ~span(qh.start, qh.end);
  return allowed.any() ? allowed : in_window;
}

bool in_span(int minute, LocalTime start, LocalTime end) {
  if (start.minutes == end.minutes) return false;
  if (start.minutes < end.minutes) return minute >= start.minutes && minute < end.minutes;
  return minute >= start.minutes || minute < end.minutes;
}

// The common case without building minute sets: inside the window and outside quiet hours
// is allowed whatever else holds (the fallback of allowed_minutes applies only when the
// allowed set is empty, and this minute is in it).
bool plainly_allowed(int minute, const QuietHours& qh, const SendWindow& window) {
  const bool in_window = window.start.minutes == window.end.minutes || in_span(minute, window.start, window.end);
  return in_window && !(qh.enabled && in_span(minute, qh.start, qh.end));
}

date::local_seconds to_local(const date::time_zone* zone, TimePoint t) {
  auto secs = date::floor<std::chrono::seconds>(t);
  return zone->to_local(secs);
}

int minute_of_day(date::local_seconds local) {
  auto since_midnight = local - date::floor<date::days>(local);
  return static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(since_midnight).count());
}

// The instants a local wall time denotes: one, none (a gap: then the instant the gap ends)
// or two (an overlap: both, earliest first).
std::array<std::optional<TimePoint>, 2> instants_of(const date::time_zone* zone, date::local_seconds local) {
  date::local_info info = zone->get_info(local);
  auto as_sys = [&](const date::sys_info& i) {
    return TimePoint(local.time_since_epoch() - i.offset);
  };
  switch (info.result) {
    case date::local_info::unique: return {as_sys(info.first), std::nullopt};
    case date::local_info::nonexistent: return {TimePoint(info.second.begin.time_since_epoch()), std::nullopt};
    case date::local_info::ambiguous: return {as_sys(info.first), as_sys(info.second)};
  }
  return {std::nullopt, std::nullopt};
}

}  // namespace

bool is_allowed_time(TimePoint t, std::string_view tz, const QuietHours& qh, const SendWindow& window) {
  const date::time_zone* zone = zone_of(tz);
  const int minute = minute_of_day(to_local(zone, t));
  return plainly_allowed(minute, qh, window) || allowed_minutes(qh, window).test(minute);
}

TimePoint earliest_send_time(TimePoint due, std::string_view tz, const QuietHours& qh, const SendWindow& window,
                             bool urgent_override) {
  if (urgent_override) return due;
  const date::time_zone* zone = zone_of(tz);
  date::local_seconds local_due = to_local(zone, due);
  const int due_minute = minute_of_day(local_due);
  if (plainly_allowed(due_minute, qh, window)) return due;
  MinuteSet allowed = allowed_minutes(qh, window);
  if (allowed.test(due_minute)) return due;

  // Openings: allowed minutes whose previous minute is not allowed. The answer is the
  // earliest opening instant at or after due that is itself allowed (an opening that falls
  // inside a DST gap moves to the gap's end, which may or may not still be allowed).
  std::optional<TimePoint> best;
  auto today = date::floor<date::days>(local_due);
  for (int day = 0; day <= 2 && !best; ++day) {
    for (int m = 0; m < kMinutesPerDay; ++m) {
      if (!allowed.test(m) || allowed.test((m + kMinutesPerDay - 1) % kMinutesPerDay)) continue;
      date::local_seconds opening = today + date::days(day) + std::chrono::minutes(m);
      for (const auto& candidate : instants_of(zone, opening)) {
        if (!candidate || *candidate < due) continue;
        if (!allowed.test(minute_of_day(to_local(zone, *candidate)))) continue;
        if (!best || *candidate < *best) best = candidate;
        break;  // the later occurrence of an ambiguous time is never better
      }
    }
  }
  // Unreachable with a non-empty allowed set; a safe answer if a zone ever proves otherwise.
  return best.value_or(due);
}

std::string local_time_string(TimePoint t, std::string_view tz) {
  const date::time_zone* zone = zone_of(tz);
  auto secs = date::floor<std::chrono::seconds>(t);
  date::sys_info info = zone->get_info(secs);
  date::local_seconds local = zone->to_local(secs);
  auto offset = std::chrono::duration_cast<std::chrono::minutes>(info.offset).count();
  char sign = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, static_cast<int>(offset / 60), static_cast<int>(offset % 60));
  return date::format("%Y-%m-%dT%H:%M:%S", local) + buf;
}

std::optional<TimePoint> end_of_local_day(std::string_view text, std::string_view tz) {
  const date::time_zone* zone = zone_of(tz);
  date::local_days day;
  if (text.size() == 10) {
    int y = 0;
    unsigned mo = 0, d = 0;
    if (text[4] != '-' || text[7] != '-') return std::nullopt;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
    }
    y = std::stoi(std::string(text.substr(0, 4)));
    mo = static_cast<unsigned>(std::stoi(std::string(text.substr(5, 2))));
    d = static_cast<unsigned>(std::stoi(std::string(text.substr(8, 2))));
    date::year_month_day ymd{date::year{y}, date::month{mo}, date::day{d}};
    if (!ymd.ok()) return std::nullopt;
    day = date::local_days{ymd};
  } else {
    auto t = parse_time(text);
    if (!t) return std::nullopt;
    day = date::floor<date::days>(to_local(zone, *t));
  }
  // Local midnight can itself fall in a gap (some zones change at 00:00): then the gap's end.
  return instants_of(zone, date::local_seconds(day + date::days(1)))[0];
}

}  // namespace herald::rules

// Time zones chosen by the current time, so a test that expects a send passes at any hour of the
// day (the C++ side of daytime_zone() in tests/e2e/herald_e2e.py).
#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <vector>
#include <string>

#include <date/tz.h>

namespace herald::test {

// A wide spread of UTC offsets; the Etc zones make sure every hour of the day exists somewhere.
inline const std::vector<std::string>& candidate_zones() {
  static const std::vector<std::string> zones = [] {
    std::vector<std::string> z = {"America/Chicago",  "America/New_York",   "America/Denver", "America/Los_Angeles",
                                  "America/Anchorage", "Pacific/Honolulu",  "Europe/London",  "Europe/Berlin",
                                  "Asia/Kolkata",      "Asia/Tokyo",        "Pacific/Auckland"};
    for (int offset = -14; offset <= 12; ++offset) {
      if (offset == 0) continue;
      z.push_back("Etc/GMT" + std::string(offset > 0 ? "+" : "-") + std::to_string(offset > 0 ? offset : -offset));
    }
    return z;
  }();
  return zones;
}

// The first candidate zone whose local hour at `now` satisfies the predicate.
inline std::string zone_where(const std::function<bool(int local_hour)>& predicate,
                              std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
  for (const auto& name : candidate_zones()) {
    const auto local = date::make_zoned(name, now).get_local_time();
    const auto hour = std::chrono::duration_cast<std::chrono::hours>(local - date::floor<date::days>(local)).count();
    if (predicate(static_cast<int>(hour))) return name;
  }
  throw std::logic_error("no candidate zone satisfies the predicate");
}

// A zone where it is now comfortably inside 08:00-21:00 (the default quiet hours are 21:00-08:00),
// with an hour's margin so no boundary passes during a test.
inline std::string daytime_zone(std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
  return zone_where([](int h) { return h >= 9 && h < 20; }, now);
}

}  // namespace herald::test

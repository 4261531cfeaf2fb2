// Test helper: instants written as UTC wall times.
#pragma once

#include <date/date.h>

#include "herald/domain/types.hpp"

namespace herald::test {

inline TimePoint utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return TimePoint(date::sys_days(date::year{y} / date::month{mo} / date::day{d}).time_since_epoch()) +
         std::chrono::hours(h) + std::chrono::minutes(mi) + Seconds(s);
}

}  // namespace herald::test

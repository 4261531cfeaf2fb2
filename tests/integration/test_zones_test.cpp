// The zone helpers the other tests rely on to be independent of the hour they run at.
#include "test_zones.hpp"

#include <gtest/gtest.h>

namespace herald::test {
namespace {

int local_hour(const std::string& zone, std::chrono::system_clock::time_point t) {
  const auto local = date::make_zoned(zone, t).get_local_time();
  return static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(local - date::floor<date::days>(local)).count());
}

TEST(TestZones, DaytimeZoneIsInsideDaytimeAtEveryHourOfTheDay) {
  const auto midnight = date::sys_days{date::year{2026} / 12 / 2};
  for (int minutes = 0; minutes < 24 * 60; minutes += 30) {
    const auto t = midnight + std::chrono::minutes(minutes);
    const auto zone = daytime_zone(t);
    const int hour = local_hour(zone, t);
    EXPECT_GE(hour, 9) << zone << " at +" << minutes << " min";
    EXPECT_LT(hour, 20) << zone << " at +" << minutes << " min";
  }
}

TEST(TestZones, ZoneWhereFindsANightZoneToo) {
  const auto t = date::sys_days{date::year{2026} / 12 / 2} + std::chrono::hours(18);  // US midday
  const auto zone = zone_where([](int h) { return h < 5; }, t);
  EXPECT_LT(local_hour(zone, t), 5) << zone;
}

}  // namespace
}  // namespace herald::test

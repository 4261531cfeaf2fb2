// Calling again after a busy or unanswered call: how many times, when, and never in quiet hours.
#include "herald/rules/redial.hpp"

#include <gtest/gtest.h>

#include "test_time.hpp"

namespace herald::rules {
namespace {

using test::utc;
const SendWindow kWindow{};

UnansweredCall chicago_call(int unanswered) {
  UnansweredCall c;
  c.unanswered_calls = unanswered;
  c.timezone = "America/Chicago";
  c.quiet_hours = QuietHours{true, LocalTime{21 * 60}, LocalTime{8 * 60}};
  return c;
}

TEST(Redial, CallsAgainAfterTheConfiguredPauseInTheDay) {
  const TimePoint noon = utc(2026, 11, 20, 18);  // 12:00 CST
  const RedialPolicy policy{2, Seconds(600)};
  EXPECT_EQ(redial_time(chicago_call(1), policy, kWindow, noon), noon + Seconds(600));
  EXPECT_EQ(redial_time(chicago_call(2), policy, kWindow, noon), noon + Seconds(600));
}

TEST(Redial, StopsOnceTheAllowedCallsAreUsed) {
  const TimePoint noon = utc(2026, 11, 20, 18);
  EXPECT_EQ(redial_time(chicago_call(3), RedialPolicy{2, Seconds(600)}, kWindow, noon), std::nullopt);
  EXPECT_EQ(redial_time(chicago_call(1), RedialPolicy{0, Seconds(600)}, kWindow, noon), std::nullopt);
  EXPECT_EQ(redial_time(chicago_call(0), RedialPolicy{2, Seconds(600)}, kWindow, noon), std::nullopt);
}

TEST(Redial, AnUnansweredEveningCallWaitsForTheMorning) {
  const TimePoint evening = utc(2026, 11, 21, 2, 55);  // 20:55 CST: ten minutes on is quiet time
  EXPECT_EQ(redial_time(chicago_call(1), RedialPolicy{2, Seconds(600)}, kWindow, evening), utc(2026, 11, 21, 14));
}

TEST(Redial, AnUrgentCallIsPlacedAgainEvenAtNight) {
  const TimePoint night = utc(2026, 11, 21, 8);  // 02:00 CST
  auto call = chicago_call(1);
  call.urgent = true;
  EXPECT_EQ(redial_time(call, RedialPolicy{2, Seconds(300)}, kWindow, night), night + Seconds(300));
}

TEST(Redial, NotWhenTheMessageWouldHaveExpired) {
  const TimePoint evening = utc(2026, 11, 21, 2, 55);
  auto call = chicago_call(1);
  call.expires_at = utc(2026, 11, 21, 6);  // the outage notice is stale by morning
  EXPECT_EQ(redial_time(call, RedialPolicy{2, Seconds(600)}, kWindow, evening), std::nullopt);
  call.expires_at = utc(2026, 11, 21, 14);  // expiring exactly at the morning's first minute: too late
  EXPECT_EQ(redial_time(call, RedialPolicy{2, Seconds(600)}, kWindow, evening), std::nullopt);
  call.expires_at = utc(2026, 11, 21, 15);
  EXPECT_EQ(redial_time(call, RedialPolicy{2, Seconds(600)}, kWindow, evening), utc(2026, 11, 21, 14));
}

}  // namespace
}  // namespace herald::rules

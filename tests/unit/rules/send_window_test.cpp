// The 08:00-21:00 window and quiet hours in the account's time zone, across DST changes.
#include "herald/rules/send_window.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

#include "test_time.hpp"

namespace herald::rules {
namespace {

using test::utc;
constexpr const char* kChicago = "America/Chicago";
const QuietHours kDefaultQuiet{true, LocalTime{21 * 60}, LocalTime{8 * 60}};
const QuietHours kNoQuiet{false, LocalTime{21 * 60}, LocalTime{8 * 60}};
const SendWindow kWindow{};

LocalTime hm(int h, int m = 0) { return LocalTime{h * 60 + m}; }

TEST(SendWindow, InsideWindowSendsAtOnce) {
  TimePoint noon = utc(2026, 11, 20, 18);  // 12:00 CST
  EXPECT_EQ(earliest_send_time(noon, kChicago, kDefaultQuiet, kWindow, false), noon);
  EXPECT_TRUE(is_allowed_time(noon, kChicago, kDefaultQuiet, kWindow));
}

TEST(SendWindow, DefersNonUrgentAt2300ChicagoUntilNext0800Chicago) {
  TimePoint late = utc(2026, 11, 21, 5);  // 23:00 CST on Nov 20
  EXPECT_FALSE(is_allowed_time(late, kChicago, kDefaultQuiet, kWindow));
  EXPECT_EQ(earliest_send_time(late, kChicago, kDefaultQuiet, kWindow, false), utc(2026, 11, 21, 14));
  EXPECT_EQ(local_time_string(utc(2026, 11, 21, 14), kChicago), "2026-11-21T08:00:00-06:00");
}

TEST(SendWindow, At0759DefersToOneMinuteLaterSameDay) {
  TimePoint early = utc(2026, 11, 20, 13, 59, 30);  // 07:59:30 CST
  EXPECT_EQ(earliest_send_time(early, kChicago, kDefaultQuiet, kWindow, false), utc(2026, 11, 20, 14));
}

TEST(SendWindow, LastMinuteBefore2100IsAllowedAnd2100IsNot) {
  EXPECT_TRUE(is_allowed_time(utc(2026, 11, 21, 2, 59, 59), kChicago, kNoQuiet, kWindow));  // 20:59:59
  EXPECT_FALSE(is_allowed_time(utc(2026, 11, 21, 3), kChicago, kNoQuiet, kWindow));         // 21:00
}

TEST(SendWindow, UrgentOverrideSendsAtOnce) {
  TimePoint late = utc(2026, 11, 21, 8);  // 02:00 CST
  EXPECT_EQ(earliest_send_time(late, kChicago, kDefaultQuiet, kWindow, true), late);
}

TEST(SendWindow, QuietHoursAndWindowCombine) {
  const QuietHours quiet{true, hm(22), hm(7)};  // narrower than the window's closed hours
  // 21:30 CST: quiet hours have not begun but the window has closed.
  TimePoint t = utc(2026, 11, 21, 3, 30);
  EXPECT_FALSE(is_allowed_time(t, kChicago, quiet, kWindow));
  // 07:30: quiet hours are over but the window is not open.
  EXPECT_FALSE(is_allowed_time(utc(2026, 11, 21, 13, 30), kChicago, quiet, kWindow));
  EXPECT_EQ(earliest_send_time(t, kChicago, quiet, kWindow, false), utc(2026, 11, 21, 14));
}

TEST(SendWindow, QuietHoursEndingAfterTheWindowOpensHoldUntilThen) {
  const QuietHours quiet{true, hm(20), hm(9)};
  TimePoint t = utc(2026, 11, 20, 14, 30);  // 08:30 CST: window open, quiet until 09:00
  EXPECT_FALSE(is_allowed_time(t, kChicago, quiet, kWindow));
  EXPECT_EQ(earliest_send_time(t, kChicago, quiet, kWindow, false), utc(2026, 11, 20, 15));
  // 20:15: window open, quiet hours started at 20:00 -> next day 09:00.
  EXPECT_EQ(earliest_send_time(utc(2026, 11, 21, 2, 15), kChicago, quiet, kWindow, false), utc(2026, 11, 21, 15));
}

TEST(SendWindow, DaytimeQuietHoursThatDoNotWrapMidnight) {
  const QuietHours lunch{true, hm(13), hm(14)};
  TimePoint t = utc(2026, 11, 20, 19, 10);  // 13:10 CST
  EXPECT_FALSE(is_allowed_time(t, kChicago, lunch, kWindow));
  EXPECT_EQ(earliest_send_time(t, kChicago, lunch, kWindow, false), utc(2026, 11, 20, 20));
  EXPECT_TRUE(is_allowed_time(utc(2026, 11, 20, 18, 59), kChicago, lunch, kWindow));  // 12:59
  // At 23:00 the window rules: next 08:00.
  EXPECT_EQ(earliest_send_time(utc(2026, 11, 21, 5), kChicago, lunch, kWindow, false), utc(2026, 11, 21, 14));
}

TEST(SendWindow, DisabledQuietHoursStillRespectTheWindow) {
  const QuietHours off{false, hm(13), hm(14)};
  EXPECT_TRUE(is_allowed_time(utc(2026, 11, 20, 19, 10), kChicago, off, kWindow));  // 13:10
  TimePoint late = utc(2026, 11, 21, 4);                                              // 22:00 CST
  EXPECT_FALSE(is_allowed_time(late, kChicago, off, kWindow));
  EXPECT_EQ(earliest_send_time(late, kChicago, off, kWindow, false), utc(2026, 11, 21, 14));
}

TEST(SendWindow, QuietHoursCoveringTheWholeWindowFallBackToTheWindow) {
  const QuietHours always{true, hm(0), hm(23, 59)};
  TimePoint late = utc(2026, 11, 21, 5);  // 23:00 CST
  EXPECT_EQ(earliest_send_time(late, kChicago, always, kWindow, false), utc(2026, 11, 21, 14));
}

TEST(SendWindow, OpensAt0800LocalAcrossTheSpringForwardChange) {
  // US DST starts Sunday March 8 2026: 08:00 CST on Mar 7 is 14:00Z, 08:00 CDT on Mar 8 is 13:00Z.
  EXPECT_EQ(earliest_send_time(utc(2026, 3, 7, 5), kChicago, kDefaultQuiet, kWindow, false), utc(2026, 3, 7, 14));
  TimePoint before_change = utc(2026, 3, 8, 5);  // 23:00 CST Mar 7
  EXPECT_EQ(earliest_send_time(before_change, kChicago, kDefaultQuiet, kWindow, false), utc(2026, 3, 8, 13));
}

TEST(SendWindow, OpensAt0800LocalAcrossTheFallBackChange) {
  // US DST ends Sunday November 1 2026: 08:00 CDT on Oct 31 is 13:00Z, 08:00 CST on Nov 1 is 14:00Z.
  EXPECT_EQ(earliest_send_time(utc(2026, 10, 31, 4), kChicago, kDefaultQuiet, kWindow, false),
            utc(2026, 10, 31, 13));
  TimePoint before_change = utc(2026, 11, 1, 4);  // 23:00 CDT Oct 31
  EXPECT_EQ(earliest_send_time(before_change, kChicago, kDefaultQuiet, kWindow, false), utc(2026, 11, 1, 14));
}

TEST(SendWindow, OpeningInsideASpringForwardGapMovesToTheGapsEnd) {
  // Window opening at 02:30, which does not exist in Chicago on March 8 2026 (02:00 -> 03:00 CDT).
  const SendWindow night{hm(2, 30), hm(5)};
  TimePoint t = utc(2026, 3, 8, 7, 30);  // 01:30 CST
  EXPECT_EQ(earliest_send_time(t, kChicago, kNoQuiet, night, false), utc(2026, 3, 8, 8));  // 03:00 CDT
}

TEST(SendWindow, AmbiguousOpeningTakesItsEarliestOccurrenceNotBeforeDue) {
  // 01:30 happens twice in Chicago on November 1 2026: 06:30Z (CDT) and 07:30Z (CST).
  const SendWindow night{hm(1, 30), hm(5)};
  EXPECT_EQ(earliest_send_time(utc(2026, 11, 1, 5), kChicago, kNoQuiet, night, false), utc(2026, 11, 1, 6, 30));
  // Due at 01:10 CST (after the first 01:30 has passed): the second 01:30.
  EXPECT_EQ(earliest_send_time(utc(2026, 11, 1, 7, 10), kChicago, kNoQuiet, night, false), utc(2026, 11, 1, 7, 30));
}

TEST(SendWindow, BerlinAndLordHoweDstChanges) {
  // Europe/Berlin DST starts March 29 2026: 08:00 CEST = 06:00Z (the day before, CET: 07:00Z).
  EXPECT_EQ(earliest_send_time(utc(2026, 3, 28, 22), "Europe/Berlin", kDefaultQuiet, kWindow, false),
            utc(2026, 3, 29, 6));
  EXPECT_EQ(earliest_send_time(utc(2026, 3, 27, 22), "Europe/Berlin", kDefaultQuiet, kWindow, false),
            utc(2026, 3, 28, 7));
  // Lord Howe moves half an hour: +11:00 (summer) until April 5 2026 02:00, then +10:30.
  EXPECT_EQ(earliest_send_time(utc(2026, 4, 4, 12), "Australia/Lord_Howe", kDefaultQuiet, kWindow, false),
            utc(2026, 4, 4, 21, 30));  // 08:00 +10:30 on April 5
  EXPECT_EQ(earliest_send_time(utc(2026, 4, 3, 12), "Australia/Lord_Howe", kDefaultQuiet, kWindow, false),
            utc(2026, 4, 3, 21));  // 08:00 +11:00 on April 4
}

TEST(SendWindow, ResultIsAlwaysAllowedAndNeverBeforeDue) {
  const QuietHours quiets[] = {kDefaultQuiet, kNoQuiet, {true, hm(13), hm(14)}, {true, hm(20), hm(9)}};
  for (const char* tz : {kChicago, "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"}) {
    for (const QuietHours& qh : quiets) {
      for (TimePoint t = utc(2026, 3, 6); t < utc(2026, 3, 10); t += std::chrono::minutes(37)) {
        TimePoint s = earliest_send_time(t, tz, qh, kWindow, false);
        ASSERT_GE(s, t) << tz;
        ASSERT_LE(s - t, std::chrono::hours(24)) << tz;
        ASSERT_TRUE(is_allowed_time(s, tz, qh, kWindow)) << tz << " " << format_time(t);
      }
    }
  }
}

TEST(SendWindow, UnknownTimeZoneThrows) {
  EXPECT_THROW(earliest_send_time(utc(2026, 1, 1), "Mars/Olympus", kDefaultQuiet, kWindow, false),
               std::invalid_argument);
}

TEST(EndOfLocalDay, IsTheNextLocalMidnight) {
  EXPECT_EQ(end_of_local_day("2026-12-10", kChicago), utc(2026, 12, 11, 6));
  EXPECT_EQ(end_of_local_day("2026-07-10", kChicago), utc(2026, 7, 11, 5));
  EXPECT_EQ(end_of_local_day("2026-12-10T20:00:00Z", kChicago), utc(2026, 12, 11, 6));
  EXPECT_FALSE(end_of_local_day("10/12/2026", kChicago));
  EXPECT_FALSE(end_of_local_day("2026-02-30", kChicago));
}

}  // namespace
}  // namespace herald::rules

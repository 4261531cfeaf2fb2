// Which outage notice a change calls for: thresholds, collapse windows, planned schedules, endings.
#include "herald/rules/outage_notices.hpp"

#include <gtest/gtest.h>

namespace herald::rules {
namespace {

using namespace std::chrono_literals;

TimePoint at(const char* rfc3339) { return *parse_time(rfc3339); }

OutageNoticeState told_confirmed(const char* etr) {
  OutageNoticeState s;
  s.status = "etr_updated";
  s.kind = "unplanned";
  s.etr = at(etr);
  s.notified_status = "confirmed";
  s.notified_etr = at("2026-11-24T20:00:00Z");
  s.last_notice_at = at("2026-11-24T17:00:00Z");
  return s;
}

TEST(OutageNotices, ConfirmationIsToldAtOnceAndReportedIsNot) {
  OutageNoticeState s;
  s.status = "reported";
  EXPECT_FALSE(plan_outage_notice(s, {}, at("2026-11-24T17:00:00Z")).notice);
  s.status = "confirmed";
  EXPECT_EQ(plan_outage_notice(s, {}, at("2026-11-24T17:00:00Z")).notice, "confirmed");
}

TEST(OutageNotices, AnEtrMovedLessThanTheThresholdIsNotNews) {
  const OutageNoticeConfig cfg;
  EXPECT_FALSE(plan_outage_notice(told_confirmed("2026-11-24T20:10:00Z"), cfg, at("2026-11-24T18:00:00Z")).notice);
  EXPECT_FALSE(plan_outage_notice(told_confirmed("2026-11-24T19:31:00Z"), cfg, at("2026-11-24T18:00:00Z")).notice);
  EXPECT_EQ(plan_outage_notice(told_confirmed("2026-11-24T22:00:00Z"), cfg, at("2026-11-24T18:00:00Z")).notice,
            "etr_updated");
}

TEST(OutageNotices, UpdatesInsideTheCollapseWindowWaitForItsEnd) {
  const auto plan = plan_outage_notice(told_confirmed("2026-11-24T22:00:00Z"), {}, at("2026-11-24T17:01:00Z"));
  EXPECT_FALSE(plan.notice);
  EXPECT_EQ(plan.next_due, at("2026-11-24T17:02:00Z"));
}

TEST(OutageNotices, CrewAssignedOnlyWhenConfigured) {
  auto s = told_confirmed("2026-11-24T20:00:00Z");
  s.status = "crew_assigned";
  OutageNoticeConfig cfg;
  EXPECT_FALSE(plan_outage_notice(s, cfg, at("2026-11-24T18:00:00Z")).notice);
  cfg.notify_crew_assigned = true;
  EXPECT_EQ(plan_outage_notice(s, cfg, at("2026-11-24T18:00:00Z")).notice, "crew_assigned");
}

TEST(OutageNotices, RestoredOnceAndNothingAfter) {
  auto s = told_confirmed("2026-11-24T20:00:00Z");
  s.status = "restored";
  const OutageNoticeConfig cfg;
  EXPECT_EQ(plan_outage_notice(s, cfg, at("2026-11-24T18:00:00Z")).notice, "restored");
  s = after_notice(s, "restored", at("2026-11-24T18:00:00Z"), cfg);
  s.etr = at("2026-11-25T20:00:00Z");
  EXPECT_FALSE(plan_outage_notice(s, cfg, at("2026-11-24T19:00:00Z")).notice);
  OutageNoticeState never_told;
  never_told.status = "restored";
  EXPECT_FALSE(plan_outage_notice(never_told, cfg, at("2026-11-24T19:00:00Z")).notice);
}

TEST(OutageNotices, PlannedNoticeReminderAndCancellationOnlyAfterANotice) {
  const OutageNoticeConfig cfg;  // 72 h and 24 h
  OutageNoticeState s;
  s.status = "planned";
  s.kind = "planned";
  s.planned_start = at("2026-11-30T15:00:00Z");
  auto plan = plan_outage_notice(s, cfg, at("2026-11-24T17:00:00Z"));
  EXPECT_FALSE(plan.notice);
  EXPECT_EQ(plan.next_due, at("2026-11-27T15:00:00Z"));
  auto cancelled = s;
  cancelled.status = "cancelled";
  EXPECT_FALSE(plan_outage_notice(cancelled, cfg, at("2026-11-26T17:00:00Z")).notice);

  EXPECT_EQ(plan_outage_notice(s, cfg, at("2026-11-27T15:00:00Z")).notice, "planned_notice");
  s = after_notice(s, "planned_notice", at("2026-11-27T15:00:00Z"), cfg);
  plan = plan_outage_notice(s, cfg, at("2026-11-27T15:00:00Z"));
  EXPECT_FALSE(plan.notice);
  EXPECT_EQ(plan.next_due, at("2026-11-29T15:00:00Z"));
  EXPECT_EQ(plan_outage_notice(s, cfg, at("2026-11-29T15:00:00Z")).notice, "planned_reminder");
  s.status = "cancelled";
  EXPECT_EQ(plan_outage_notice(s, cfg, at("2026-11-29T16:00:00Z")).notice, "cancelled");
}

TEST(OutageNotices, ANoticeInsideTheReminderTimeStandsForTheReminder) {
  const OutageNoticeConfig cfg;
  OutageNoticeState s;
  s.status = "planned";
  s.planned_start = at("2026-11-25T15:00:00Z");
  EXPECT_EQ(plan_outage_notice(s, cfg, at("2026-11-24T17:00:00Z")).notice, "planned_notice");
  s = after_notice(s, "planned_notice", at("2026-11-24T17:00:00Z"), cfg);
  const auto plan = plan_outage_notice(s, cfg, at("2026-11-24T17:00:00Z"));
  EXPECT_FALSE(plan.notice);
  EXPECT_FALSE(plan.next_due);
}

}  // namespace
}  // namespace herald::rules

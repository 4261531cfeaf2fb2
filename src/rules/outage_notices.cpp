// Which outage notice a change calls for, and when to look again.
#include "herald/rules/outage_notices.hpp"

#include <cstdlib>

namespace herald::rules {

namespace {

bool is_active(const std::string& status) {
  return status == "confirmed" || status == "crew_assigned" || status == "etr_updated";
}

bool etr_moved(const OutageNoticeState& s, const OutageNoticeConfig& cfg) {
  if (!s.etr) return false;  // an estimate withdrawn is not news worth a message
  if (!s.notified_etr) return true;
  const auto moved = *s.etr > *s.notified_etr ? *s.etr - *s.notified_etr : *s.notified_etr - *s.etr;
  return moved > cfg.etr_threshold;
}

OutageNoticePlan planned(const OutageNoticeState& s, const OutageNoticeConfig& cfg, TimePoint now) {
  OutageNoticePlan plan;
  if (!s.planned_start || now >= *s.planned_start) return plan;
  const auto notice_at = *s.planned_start - cfg.planned_notice_before;
  const auto reminder_at = *s.planned_start - cfg.planned_reminder_before;
  if (!s.planned_notice_sent) {
    if (now >= notice_at) plan.notice = "planned_notice";
    else plan.next_due = notice_at;
    return plan;
  }
  if (!s.planned_reminder_sent) {
    if (now >= reminder_at) plan.notice = "planned_reminder";
    else plan.next_due = reminder_at;
  }
  return plan;
}

}  // namespace

OutageNoticePlan plan_outage_notice(const OutageNoticeState& s, const OutageNoticeConfig& cfg, TimePoint now) {
  OutageNoticePlan plan;
  const bool told = s.notified_status.has_value();
  if (s.status == "restored") {
    if (told && *s.notified_status != "restored" && *s.notified_status != "cancelled") plan.notice = "restored";
    return plan;
  }
  if (s.status == "cancelled") {
    if (told && *s.notified_status != "cancelled" && *s.notified_status != "restored") plan.notice = "cancelled";
    return plan;
  }
  if (s.status == "planned") return planned(s, cfg, now);
  if (!is_active(s.status)) return plan;  // reported: not confirmed yet

  if (!told || *s.notified_status == "planned") {
    plan.notice = "confirmed";
    return plan;
  }
  std::optional<std::string> update;
  if (cfg.notify_crew_assigned && s.status == "crew_assigned" && *s.notified_status != "crew_assigned")
    update = "crew_assigned";
  else if (etr_moved(s, cfg)) update = "etr_updated";
  if (!update) return plan;
  if (s.last_notice_at && now < *s.last_notice_at + cfg.collapse_window) {
    plan.next_due = *s.last_notice_at + cfg.collapse_window;
    return plan;
  }
  plan.notice = update;
  return plan;
}

std::string outage_notice_type(const std::string& kind) {
  if (kind == "planned_notice") return "outage.planned";
  if (kind == "planned_reminder") return "outage.planned_reminder";
  return "outage." + kind;
}

OutageNoticeState after_notice(OutageNoticeState s, const std::string& notice, TimePoint now,
                               const OutageNoticeConfig& cfg) {
  s.last_notice_at = now;
  s.notified_etr = s.etr;
  if (notice == "planned_notice" || notice == "planned_reminder") {
    s.notified_status = "planned";
    s.planned_notice_sent = true;
    // A notice inside the reminder time stands for the reminder too.
    if (notice == "planned_reminder" || (s.planned_start && now >= *s.planned_start - cfg.planned_reminder_before))
      s.planned_reminder_sent = true;
  } else {
    s.notified_status =
        notice == "etr_updated" || notice == "confirmed" || notice == "crew_assigned" ? s.status : notice;
  }
  return s;
}

}  // namespace herald::rules

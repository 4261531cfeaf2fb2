// When an outage's customers hear about it: the notice a change calls for (confirmed, an ETR
// moved past the threshold, crew assigned, restored, planned notice and reminder, cancelled),
// the collapse of a burst of updates into one, and when to look again. Pure.
#pragma once

#include <optional>
#include <string>

#include "herald/domain/types.hpp"

namespace herald::rules {

struct OutageNoticeConfig {
  Seconds etr_threshold{30 * 60};     // an ETR moved by less is not worth a message
  Seconds collapse_window{120};       // updates within this of the last notice wait for its end
  bool notify_crew_assigned = false;  // crew_assigned is a notice of its own
  Seconds planned_notice_before{72 * 3600};
  Seconds planned_reminder_before{24 * 3600};
};

// The outage as stored, and what its customers last heard.
struct OutageNoticeState {
  std::string status, kind;
  std::optional<TimePoint> etr, planned_start;
  std::optional<std::string> notified_status;  // nullopt: nothing told yet
  std::optional<TimePoint> notified_etr, last_notice_at;
  bool planned_notice_sent = false, planned_reminder_sent = false;
};

struct OutageNoticePlan {
  std::optional<std::string> notice;  // the notice kind to tell now
  std::optional<TimePoint> next_due;  // when to look again with nothing changed (nullopt: never)
};

// - restored: "restored" once, when customers heard anything before; cancelled: "cancelled"
//   once, only when they heard anything (nothing if cancelled before its notice);
// - planned: "planned_notice" from planned_notice_before ahead of planned_start, then
//   "planned_reminder" from planned_reminder_before ahead (a notice sent inside the reminder
//   time stands for both); nothing once planned_start has passed;
// - confirmed, crew_assigned, etr_updated: "confirmed" when nothing was told yet (at once);
//   then "crew_assigned" (when configured) or "etr_updated" when the ETR moved by more than
//   the threshold or became known; these wait for the end of the collapse window after the
//   last notice, so a burst becomes one notice with the latest state;
// - reported: nothing.
// Nothing follows restored or cancelled.
OutageNoticePlan plan_outage_notice(const OutageNoticeState& s, const OutageNoticeConfig& cfg, TimePoint now);

// The message type of a notice kind: "outage.confirmed", "outage.etr_updated", ...
std::string outage_notice_type(const std::string& kind);

// The state after `notice` was told at `now`.
OutageNoticeState after_notice(OutageNoticeState s, const std::string& notice, TimePoint now,
                               const OutageNoticeConfig& cfg);

}  // namespace herald::rules

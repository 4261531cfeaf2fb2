// When a message may be sent: the 08:00-21:00 window and the customer's quiet hours, in the
// account's time zone, correct across daylight-saving changes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"

namespace herald::rules {

// The TCPA-style window: non-urgent messages only go out between start and end, local time.
// start == end means no window (any time of day).
struct SendWindow {
  LocalTime start{8 * 60};
  LocalTime end{21 * 60};
  friend bool operator==(const SendWindow&, const SendWindow&) = default;
};

// Whether a non-urgent message may go out at t: the local time (to the minute) is inside the
// window and, when quiet hours are enabled, outside them. Quiet hours may wrap midnight
// (21:00-08:00) or not (13:00-14:00); start == end means no quiet time. Quiet hours that
// leave no minute of the window free are ignored (the window alone applies), so a message is
// held, never held forever.
// Throws std::invalid_argument for a time zone date/tz does not know (validated on input).
bool is_allowed_time(TimePoint t, std::string_view tz, const QuietHours& qh, const SendWindow& window);

// `due` when it is allowed (or urgent_override); otherwise the first allowed instant after it.
// A local opening time that does not exist (spring-forward gap) maps to the first instant
// after the gap; an ambiguous one (fall back) to its earliest occurrence not before `due`.
TimePoint earliest_send_time(TimePoint due, std::string_view tz, const QuietHours& qh, const SendWindow& window,
                             bool urgent_override);

// "2026-11-20T04:00:00-06:00": t in the zone's local time, for decision explanations.
std::string local_time_string(TimePoint t, std::string_view tz);

// The first instant of the local day after `yyyy_mm_dd` in tz, i.e. the end of that local
// day (exclusive). nullopt when the text is not a YYYY-MM-DD date (a full RFC 3339 time is
// also accepted: then its own day in tz is used).
std::optional<TimePoint> end_of_local_day(std::string_view yyyy_mm_dd, std::string_view tz);

}  // namespace herald::rules

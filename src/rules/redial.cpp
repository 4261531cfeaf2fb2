// When a voice call that was busy or not answered is placed again.
#include "herald/rules/redial.hpp"

namespace herald::rules {

std::optional<TimePoint> redial_time(const UnansweredCall& call, const RedialPolicy& policy, const SendWindow& window,
                                     TimePoint now) {
  // The first call plus `attempts` more: the one that just went unanswered counts.
  if (call.unanswered_calls < 1 || call.unanswered_calls > policy.attempts) return std::nullopt;
  const TimePoint due = earliest_send_time(now + policy.after, call.timezone, call.quiet_hours, window, call.urgent);
  if (call.expires_at && *call.expires_at <= due) return std::nullopt;
  return due;
}

}  // namespace herald::rules

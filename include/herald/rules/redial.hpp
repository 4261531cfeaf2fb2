// When a voice call that was busy or not answered is placed again.
#pragma once

#include <optional>

#include "herald/domain/types.hpp"
#include "herald/domain/unanswered_call.hpp"
#include "herald/rules/send_window.hpp"

namespace herald::rules {

// [voice] redial_attempts, redial_after_seconds: how many more calls after an unanswered one, and
// how long after it the next one is placed (then held to the send window and quiet hours).
struct RedialPolicy {
  int attempts = 2;
  Seconds after{600};
};

// When to call again: `after` from now, moved to the first instant the customer may be called,
// or nullopt when the calls allowed are used up or that instant is not before the message expires.
std::optional<TimePoint> redial_time(const UnansweredCall& call, const RedialPolicy& policy, const SendWindow& window,
                                     TimePoint now);

}  // namespace herald::rules

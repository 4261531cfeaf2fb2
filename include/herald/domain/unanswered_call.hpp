// A voice message whose latest call ended busy or unanswered, with what calling again depends on.
#pragma once

#include <optional>
#include <string>

#include "herald/domain/types.hpp"

namespace herald {

struct UnansweredCall {
  int unanswered_calls = 0;              // calls so far that ended busy or no-answer
  bool urgent = false;                   // may go out in quiet hours and outside the window
  std::optional<TimePoint> expires_at;   // none: never too late
  std::string timezone;                  // the account's
  QuietHours quiet_hours;                // the customer's, or the configured default
};

}  // namespace herald

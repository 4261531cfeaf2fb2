// System clock.
#include "herald/rules/clock.hpp"

namespace herald::rules {

Clock::~Clock() = default;

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace herald::rules

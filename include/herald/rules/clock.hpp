// The injected clock: rules, retries and schedules read time only through it.
#pragma once

#include <atomic>

#include "herald/domain/types.hpp"

namespace herald::rules {

struct Clock {
  virtual ~Clock();
  virtual TimePoint now() const = 0;
};

// Wall-clock time, microsecond precision.
struct SystemClock final : Clock {
  TimePoint now() const override;
};

// A clock tests move by hand. Safe to read and move from several threads.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : micros_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(std::chrono::microseconds(micros_.load())); }
  void set(TimePoint t) { micros_.store(t.time_since_epoch().count()); }
  void advance(std::chrono::microseconds d) { micros_.fetch_add(d.count()); }

 private:
  std::atomic<std::int64_t> micros_;
};

}  // namespace herald::rules

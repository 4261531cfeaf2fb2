// The text indexer's rule for giving way to a dispatch backlog (engine/text_indexer).
#include <gtest/gtest.h>

#include "herald/engine/text_indexer.hpp"

namespace herald::engine {
namespace {

using namespace std::chrono_literals;
using Clock = BacklogYield::Clock;

TEST(BacklogYield, GivesWayOnlyToABacklogAtLeastAsDeepAsConfigured) {
  BacklogYield y(100, 60s);
  const auto t0 = Clock::time_point{} + 1h;
  EXPECT_FALSE(y.yields(0, t0));
  EXPECT_FALSE(y.yields(99, t0));
  EXPECT_TRUE(y.yields(100, t0));
  EXPECT_FALSE(y.yields(10, t0 + 1s));  // the backlog went: rounds run again
}

TEST(BacklogYield, GivesWayAtMostTheLongestStretchThenRunsUntilTheBacklogEnds) {
  BacklogYield y(100, 60s);
  const auto t0 = Clock::time_point{} + 1h;
  EXPECT_TRUE(y.yields(100, t0));
  EXPECT_TRUE(y.yields(500, t0 + 59s));
  EXPECT_FALSE(y.yields(500, t0 + 60s));   // a backlog that lasts does not keep the index behind
  EXPECT_FALSE(y.yields(500, t0 + 600s));  // nor does it start a new stretch while it lasts
  EXPECT_FALSE(y.yields(0, t0 + 601s));
  EXPECT_TRUE(y.yields(100, t0 + 602s));  // a new backlog after it went: waited out again
  EXPECT_FALSE(y.yields(100, t0 + 662s));
}

TEST(BacklogYield, ZeroNeverGivesWay) {
  BacklogYield y(0, 60s);
  EXPECT_FALSE(y.enabled());
  EXPECT_FALSE(y.yields(1000000, Clock::time_point{}));
}

}  // namespace
}  // namespace herald::engine

// Area notices: one notice.broadcast fanned out to the accounts of an area by set-based SQL.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/lane.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"
#include "herald/store/fanout.hpp"

namespace herald::store {

// Who is asked: active accounts matching any list of the target (ZIP, feeder, segment,
// premise), the affected set of the shared fan-out (store/fanout.hpp), which asks each on the
// channels its customer chose for the audience's topic.
struct AreaQuery {
  std::vector<std::string> zips, feeders, segments, premise_ids;
  FanoutAudience audience;
};

struct AreaNoticeRules {
  // The event's area and recipients' rules, or why it is rejected.
  std::function<Result<AreaQuery>(const Event&)> query;
  // Texts and send times for the recipient groups.
  std::function<FanoutPlan(const Event&, const std::vector<FanoutGroup>&)> plan;
  // The unsubscribe links' signing.
  FanoutSigning signing;
};

struct AreaNoticeOutcome {
  std::int64_t seq = 0;
  std::string event_id;
  std::optional<ApiError> rejection;
  std::size_t messages = 0;  // written (suppressed ones included)
  std::size_t queued = 0;    // with a queue row
};

// In one transaction: claims the oldest accepted area notice (a notice.broadcast without an
// account, FOR UPDATE SKIP LOCKED), gathers the accounts of its area into a temporary table by
// one statement, asks `rules` for the plan for their recipient groups, writes messages and
// queue rows (lane from the plan) by the shared fan-out, chunk_size accounts per statement,
// marks the event processed and wakes the dispatchers.
// Nothing claimable: nullopt. A rejected event is marked so, with its error.
std::optional<AreaNoticeOutcome> fan_out_area_notice(Database& db, const AreaNoticeRules& rules, TimePoint now,
                                                     std::size_t chunk_size = 5000);

}  // namespace herald::store

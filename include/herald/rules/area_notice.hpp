// Area notices: a notice.broadcast aimed at the accounts of an area instead of one account.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"

namespace herald::rules {

inline constexpr const char* kAreaNoticeType = "notice.broadcast";

// The area: an active account is in it when its ZIP, feeder or premise is listed or it
// carries one of the segments. Lists may be long (a premise list of 100,000).
struct AreaTarget {
  std::vector<std::string> zips, feeders, segments, premise_ids;
  bool empty() const { return zips.empty() && feeders.empty() && segments.empty() && premise_ids.empty(); }
};

// A notice.broadcast with no account_id is an area notice: it must carry
// data.target = {"zips": [...], "feeders": [...], "segments": [...], "premise_ids": [...]}, at
// least one list non-empty, each entry a non-empty string of at most 128 bytes. The first
// problem names its field (data.target, data.target.zips[3]).
bool is_area_notice(const Event& e);
Result<AreaTarget> parse_area_target(const Json& data);

// data.urgency = "immediate" (a gas leak, a boil-water order): the notice may go out during
// quiet hours and outside the send window, in the urgent lane; "normal" (the default) follows
// the type's rule.
bool immediate_urgency(const Event& e);

}  // namespace herald::rules

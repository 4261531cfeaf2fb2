// Dispatch lanes: the order in which due messages are claimed.
#pragma once

#include <optional>
#include <string_view>

namespace herald {

// Highest first: a due message of a higher lane goes out before any of a lower lane; within a
// lane the oldest due goes first. The value is what the queue row stores
// (message_queue.lane, 0017), so the order of the enumerators is the claim order.
enum class Lane { verification = 0, urgent = 1, outage = 2, standard = 3 };
inline constexpr Lane kAllLanes[] = {Lane::verification, Lane::urgent, Lane::outage, Lane::standard};

std::string_view to_string(Lane l);
std::optional<Lane> parse_lane(std::string_view s);

}  // namespace herald

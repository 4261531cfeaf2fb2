// The API's view of reports: the volume report as JSON or CSV.
#pragma once

#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/reports.hpp"

namespace herald::http::views {

// {"rows": [{"bucket", <group columns>, "count"}], "from", "to", "bucket"}; a group column
// with no value (gateway of an unsent message) is null.
Json volume_report_json(const std::vector<store::VolumeRow>& rows, const store::VolumeQuery& q);

// Header "bucket,<group columns>,count", then one line per row; null is an empty cell.
std::string volume_report_csv(const std::vector<store::VolumeRow>& rows, const store::VolumeQuery& q);

}  // namespace herald::http::views

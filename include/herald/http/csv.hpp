// RFC 4180 CSV for report downloads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace herald::http {

// Quotes a field when it holds a comma, quote, CR or LF (quotes doubled). A field starting
// with = + - @ is prefixed with ' so spreadsheets do not run it as a formula.
std::string csv_field(std::string_view value);
// Header row then rows, each line ending in CRLF.
std::string to_csv(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace herald::http

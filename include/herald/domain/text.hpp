// Checks on text from outside: control characters that a store would cut or a message would hide.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/error.hpp"

namespace herald {

// Whether s holds a control character: C0 (U+0000-U+001F), DEL (U+007F) or C1 (U+0080-U+009F).
// With allow_line_breaks, line feed, carriage return and tab are let through (multi-line text).
bool has_control_character(std::string_view s, bool allow_line_breaks = false);

// An invalid-input error naming `field` when s holds a control character, else nothing.
std::optional<ApiError> reject_control_characters(std::string_view s, const std::string& field,
                                                  bool allow_line_breaks = false);

}  // namespace herald

// Checks on text from outside (control characters a store would cut or a message would hide,
// bytes that are not UTF-8), and escaping text into XML and HTML.
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

// Whether s is well-formed UTF-8 (no overlong forms, no surrogates). Query parameters are
// percent-decoded bytes, and Postgres refuses text that is not UTF-8.
bool valid_utf8(std::string_view s);

// An invalid-input error naming `field` (code "invalid_text") unless s is UTF-8 without
// control characters: what a query parameter must be before it reaches the database.
std::optional<ApiError> reject_bad_text(std::string_view s, const std::string& field);

// An invalid-input error naming `field` (code "invalid_text") unless s is UTF-8 without NUL:
// what any text from outside must be before it is stored or looked up (Postgres refuses text
// that is not UTF-8, and libpq would cut a parameter at its first NUL).
std::optional<ApiError> reject_unstorable_text(std::string_view s, const std::string& field);

// Text for XML content and attribute values (TwiML): & < > " ' as the five predefined entities.
std::string xml_escape(std::string_view s);

// The same for HTML, the apostrophe as &#39; (&apos; is not an HTML 4 entity).
std::string html_escape(std::string_view s);

}  // namespace herald

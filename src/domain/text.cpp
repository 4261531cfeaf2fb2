// Control characters in text from outside: a NUL would be cut by the database, others hidden.
#include "herald/domain/text.hpp"

namespace herald {

bool has_control_character(std::string_view s, bool allow_line_breaks) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20) {
      if (allow_line_breaks && (c == '\n' || c == '\r' || c == '\t')) continue;
      return true;
    }
    if (c == 0x7f) return true;
    // C1 controls are U+0080-U+009F: 0xC2 0x80-0x9F in UTF-8.
    if (c == 0xc2 && i + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return true;
    }
  }
  return false;
}

std::optional<ApiError> reject_control_characters(std::string_view s, const std::string& field,
                                                  bool allow_line_breaks) {
  if (!has_control_character(s, allow_line_breaks)) return std::nullopt;
  return invalid(field, "control_character",
                       field + (allow_line_breaks ? " must not hold control characters other than line breaks and tabs"
                                                  : " must not hold control characters or line breaks"));
}

}  // namespace herald

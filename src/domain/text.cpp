// Text from outside: control characters (a NUL would be cut by the database, others hidden), UTF-8,
// and escaping into XML and HTML.
#include "herald/domain/text.hpp"

#include <cstdint>

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

bool valid_utf8(std::string_view s) {
  static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t more = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 4;
    if (more == 4 || i + more >= s.size()) return false;  // not a lead byte, or cut short
    std::uint32_t cp = more == 0 ? c : more == 1 ? (c & 0x1Fu) : more == 2 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; k <= more; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < kMin[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += more + 1;
  }
  return true;
}

std::optional<ApiError> reject_bad_text(std::string_view s, const std::string& field) {
  if (valid_utf8(s) && !has_control_character(s)) return std::nullopt;
  return invalid(field, "invalid_text", field + " must be UTF-8 text without control characters");
}

std::optional<ApiError> reject_unstorable_text(std::string_view s, const std::string& field) {
  if (valid_utf8(s) && s.find('\0') == std::string_view::npos) return std::nullopt;
  return invalid(field, "invalid_text", field + " must be UTF-8 text without NUL characters");
}

namespace {

std::string escape_markup(std::string_view s, std::string_view apostrophe) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += apostrophe; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::string xml_escape(std::string_view s) { return escape_markup(s, "&apos;"); }

std::string html_escape(std::string_view s) { return escape_markup(s, "&#39;"); }

}  // namespace herald

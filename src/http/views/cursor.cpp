// Page cursors: base64url of the position's decimal digits, checked strictly on the way back.
#include "herald/http/views/cursor.hpp"

#include <charconv>

#include "herald/domain/signed_token.hpp"

namespace herald::http::views {

namespace {

// The digits of the largest int64; anything longer cannot be a position.
constexpr std::size_t kMaxDigits = 19;

}  // namespace

std::string encode_cursor(std::int64_t position) { return base64url_encode(std::to_string(position)); }

std::optional<std::int64_t> decode_cursor(std::string_view cursor) {
  const auto text = base64url_decode(cursor);
  if (!text || text->empty() || text->size() > kMaxDigits) return std::nullopt;
  std::int64_t position = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), position);
  if (ec != std::errc() || end != text->data() + text->size() || position <= 0) return std::nullopt;
  // Only the one spelling encode_cursor makes ("007" and "+7" are not positions we issue).
  if (encode_cursor(position) != cursor) return std::nullopt;
  return position;
}

}  // namespace herald::http::views

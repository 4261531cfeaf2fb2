// Page cursors: the store's keyset position as an opaque token, and back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::http::views {

// A positive position (a row id) as the token a page hands out for the next one.
std::string encode_cursor(std::int64_t position);
// The position inside a token; nullopt for anything encode_cursor cannot have made.
std::optional<std::int64_t> decode_cursor(std::string_view cursor);

}  // namespace herald::http::views

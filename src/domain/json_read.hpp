// Domain-internal: reading members of API JSON objects with errors that name the field. Included
// only by src/domain/*_json.cpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"

namespace herald::json_read {

inline constexpr std::size_t kMaxIdLength = 128;
inline constexpr std::size_t kMaxTextLength = 512;

// "base[i]" and "base.key" ("key" when base is empty): the field paths errors name.
std::string indexed(std::string_view base, std::size_t i);
std::string dotted(std::string_view base, std::string_view key);

ApiError wrong_type(const std::string& field, std::string_view expected);
ApiError missing(const std::string& field);

// Optional string member: absent or null leaves `out` alone; anything but a string, or a
// string holding a control character (none of these fields is multi-line), is an error.
std::optional<ApiError> read_string(const Json& obj, std::string_view key, const std::string& field,
                                    std::string& out, std::size_t max_length = kMaxTextLength);
// The same, but absent, null or empty is an error too.
std::optional<ApiError> read_required_string(const Json& obj, std::string_view key, const std::string& field,
                                             std::string& out, std::size_t max_length = kMaxTextLength);
// Optional "language" member holding a language tag.
std::optional<ApiError> read_language(const Json& obj, const std::string& field, std::string& out);

}  // namespace herald::json_read

// Reading members of API JSON objects: field paths, type and length checks, language tags.
#include "json_read.hpp"

#include "herald/domain/json_io.hpp"
#include "herald/domain/text.hpp"

namespace herald::json_read {

std::string indexed(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}
std::string dotted(std::string_view base, std::string_view key) {
  if (base.empty()) return std::string(key);
  return std::string(base) + "." + std::string(key);
}

ApiError wrong_type(const std::string& field, std::string_view expected) {
  return invalid(field, "invalid_type", field + " must be " + std::string(expected));
}
ApiError missing(const std::string& field) {
  return invalid(field, "required", field + " is required");
}

std::optional<ApiError> read_string(const Json& obj, std::string_view key, const std::string& field,
                                    std::string& out, std::size_t max_length) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return wrong_type(field, "a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_length) {
    return invalid(field, "too_long", field + " is longer than " + std::to_string(max_length));
  }
  if (auto err = reject_control_characters(s, field)) return err;
  out = s;
  return std::nullopt;
}

std::optional<ApiError> read_required_string(const Json& obj, std::string_view key, const std::string& field,
                                             std::string& out, std::size_t max_length) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return missing(field);
  if (auto err = read_string(obj, key, field, out, max_length)) return err;
  if (out.empty()) return invalid(field, "required", field + " must not be empty");
  return std::nullopt;
}

std::optional<ApiError> read_language(const Json& obj, const std::string& field, std::string& out) {
  std::string value;
  if (auto err = read_string(obj, "language", field, value, 16)) return err;
  auto it = obj.find("language");
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!is_language_tag(value)) {
    return invalid(field, "invalid_language", field + " must be a language tag such as \"en\" or \"es\"");
  }
  out = value;
  return std::nullopt;
}

}  // namespace herald::json_read

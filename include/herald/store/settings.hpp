// Small persistent settings shared by every instance (e.g. the token-signing secret).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "herald/store/db.hpp"

namespace herald::store {

// Returns the stored value of `key`; when absent, stores make_value() first. Safe when several
// instances start at once: the first writer wins and everyone reads its value.
std::string get_or_create_setting(Database& db, std::string_view key, const std::function<std::string()>& make_value);

}  // namespace herald::store

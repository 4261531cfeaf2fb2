// API keys: only their SHA-256 is stored.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "herald/store/db.hpp"

namespace herald::store {

// Returns the plaintext key ("hk_" + random_token(32)); stores sha256_hex only.
std::string create_api_key(Database& db, std::string_view role, std::string_view name);
// Role ("cis" | "admin") of a live (not revoked) key.
std::optional<std::string> role_for_api_key(Database& db, std::string_view key);
// Marks every live key with this name revoked; returns how many.
int revoke_api_keys(Database& db, std::string_view name);

}  // namespace herald::store

// API keys: created with a random secret shown once, looked up by its SHA-256.
#include "herald/store/api_keys.hpp"

#include <stdexcept>

#include "herald/domain/signed_token.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kInsertApiKey = "INSERT INTO herald.api_keys (name, role, key_hash) VALUES ($1, $2, $3)";
const char* const kRoleForKey =
    "SELECT role FROM herald.api_keys WHERE key_hash = $1 AND revoked_at IS NULL";
const char* const kRevokeKeys =
    "UPDATE herald.api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL";

constexpr std::size_t kKeyBytes = 32;

}  // namespace

std::string create_api_key(Database& db, std::string_view role, std::string_view name) {
  if (role != "cis" && role != "admin")
    throw std::invalid_argument("API key role must be cis or admin, not '" + std::string(role) + "'");
  const std::string key = "hk_" + random_token(kKeyBytes);
  in_transaction(db, [&](pqxx::work& w) {
    w.exec_params(kInsertApiKey, std::string(name), std::string(role), sha256_hex(key));
  });
  return key;
}

std::optional<std::string> role_for_api_key(Database& db, std::string_view key) {
  if (key.empty()) return std::nullopt;
  const std::string hash = sha256_hex(key);
  std::optional<std::string> role;
  with_connection(db, [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    const auto r = n.exec_params(kRoleForKey, hash);
    role = r.empty() ? std::nullopt : std::optional<std::string>(r[0][0].c_str());
  });
  return role;
}

int revoke_api_keys(Database& db, std::string_view name) {
  return in_transaction(db, [&](pqxx::work& w) {
    return static_cast<int>(w.exec_params(kRevokeKeys, std::string(name)).affected_rows());
  });
}

}  // namespace herald::store

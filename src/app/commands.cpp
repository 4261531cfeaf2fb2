// The short-lived subcommands: migrate, create-api-key, check-config, customer-token.
#include "herald/app/commands.hpp"

#include <iostream>

#include "herald/domain/customer_token.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/store/api_keys.hpp"
#include "herald/store/settings.hpp"

namespace herald::app {

TokenSecret token_secret(const Config& config, store::Database& db) {
  if (!config.token_secret.value.empty()) return config.token_secret;
  return TokenSecret{store::get_or_create_setting(db, "token_secret", [] { return random_token(32); })};
}

int run_migrate(const Config& config) {
  store::Database db(config.database_url, 1);
  const auto applied = store::migrate(db, config.migrations_dir);
  std::cout << "migrations applied: " << applied << "\n";
  return 0;
}

int run_create_api_key(const Config& config, const std::string& role, const std::string& name) {
  store::Database db(config.database_url, 1);
  const auto key = store::create_api_key(db, role, name);
  std::cout << "created " << role << " key '" << name << "'; it is shown once and stored hashed:\n" << key << "\n";
  return 0;
}

int run_check_config(const Result<Config>& loaded) {
  if (!loaded) {
    std::cerr << "config error: " << loaded.error().message << "\n";
    return 1;
  }
  const auto problems = validate_config(*loaded);
  for (const auto& p : problems) std::cerr << "config error: " << p.message << "\n";
  if (!problems.empty()) return 1;
  std::cout << "config ok: " << loaded->source << "\n";
  return 0;
}

int run_customer_token(const Config& config, const std::string& customer_id, long ttl_seconds) {
  store::Database db(config.database_url, 1);
  const auto expires = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()) +
                       std::chrono::seconds(ttl_seconds);
  std::cout << issue_customer_token(token_secret(config, db).value, customer_id, expires) << "\n";
  return 0;
}

}  // namespace herald::app

// heraldd's subcommands: serve, migrate, create-api-key, check-config, customer-token, seed-demo, import-customers.
#pragma once

#include <string>
#include <vector>

#include "herald/app/config.hpp"

namespace herald::app {

// Each returns the process exit code. Output meant for scripts goes to stdout; logs to stderr.
int run_serve(const Config& config);
int run_migrate(const Config& config);
int run_create_api_key(const Config& config, const std::string& role, const std::string& name);
int run_check_config(const Result<Config>& loaded);
int run_customer_token(const Config& config, const std::string& customer_id, long ttl_seconds);
int run_seed_demo(const Config& config);
// Customers from JSON lines (path "-": standard input), `chunk_size` lines per transaction.
// Exit code 0: every line stored; 3: some lines rejected (listed), the rest stored; 1: stopped
// by a failure, every chunk before it stored.
// chunk_size lines per transaction; `jobs` transactions at once, each on its own connection.
int run_import_customers(const Config& config, const std::string& path, std::size_t chunk_size, std::size_t jobs);

// The token-signing secret: the configured one, else the one kept in the database (made once).
TokenSecret token_secret(const Config& config, store::Database& db);

}  // namespace herald::app

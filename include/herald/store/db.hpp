// The Postgres connection pool every repository function runs on. No libpqxx here.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace herald::store {

class Database {
 public:
  // Opens connections lazily; a broken connection is replaced on its next use, so the
  // daemon rides out a Postgres restart.
  Database(std::string url, std::size_t pool_size);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& url() const;
  std::size_t pool_size() const;
  // True when a trivial query succeeds within the pool's current state.
  bool ping();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Applies migrations/NNNN_*.sql not yet recorded in herald.schema_migrations, in order,
// each in its own transaction. Returns how many were applied. Throws on SQL errors.
int migrate(Database& db, const std::string& migrations_dir);
// True when every migration file in the directory is recorded as applied.
bool migrations_current(Database& db, const std::string& migrations_dir);

}  // namespace herald::store

// The Postgres connection pool every repository function runs on. No libpqxx here.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace herald::store {

// What every connection of a pool sets on its Postgres session when it opens.
struct SessionSettings {
  // Shown in pg_stat_activity (e.g. "heraldd <instance id>"); a name the URL gives wins.
  std::string application_name;
  // A transaction left waiting on heraldd longer than this (the process frozen or stopped
  // between two statements) is ended by Postgres, which frees its row locks: another instance
  // can then take over the messages it had leased. 0: Postgres's own setting.
  std::chrono::milliseconds idle_transaction_timeout{0};
};

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
  // For connections opened from now on; set once, before the pool is used.
  void set_session(SessionSettings settings);

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

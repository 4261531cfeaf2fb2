// TestDb: a fresh, migrated database in the test Postgres cluster, dropped on destruction.
#pragma once

#include <memory>
#include <string>

#include "herald/store/db.hpp"

namespace herald::test {

// Reads the cluster's admin URL from "$HERALD_TEST_PG_DIR/url" (scripts/test-postgres start
// DIR writes it), creates a uniquely named copy of a migrated template database and opens a pool on it.
class TestDb {
 public:
  explicit TestDb(std::size_t pool_size = 4);
  // An empty database with no migrations applied, for migration tests.
  struct Empty {};
  explicit TestDb(Empty, std::size_t pool_size = 2);
  ~TestDb();
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;

  herald::store::Database& db() { return *db_; }
  std::string url() const { return url_; }
  const std::string& name() const { return name_; }

  // Runs SQL (one or more statements) outside the pool, for test set-up.
  void exec(const std::string& sql);
  // First column of the first row as text ("" for NULL); throws when there is no row.
  std::string query_value(const std::string& sql);

 private:
  void open(std::size_t pool_size);

  std::string admin_url_;
  std::string name_;
  std::string url_;
  std::unique_ptr<herald::store::Database> db_;
};

// The admin URL of the test cluster (throws with a hint when HERALD_TEST_PG_DIR is unset).
std::string test_pg_admin_url();

}  // namespace herald::test

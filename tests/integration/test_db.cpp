// TestDb: creates, migrates and drops a private database per test.
#include "test_db.hpp"
#include "herald/source_dir.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

#include <pqxx/pqxx>

namespace herald::test {

namespace {

std::string unique_db_name() {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return "herald_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(rd() % 1000000);
}

// Replaces the database name (the path after the last '/', before any '?') of a URL.
std::string with_database(const std::string& url, const std::string& name) {
  const auto query = url.find('?');
  const auto base = url.substr(0, query);
  const auto slash = base.rfind('/');
  if (slash == std::string::npos || slash < base.find("://") + 3)
    throw std::runtime_error("test Postgres URL has no database part: " + url);
  return base.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

void admin_exec(const std::string& admin_url, const std::string& sql) {
  pqxx::connection c(admin_url);
  pqxx::nontransaction n(c);
  n.exec(sql);
}

// A migrated template database named after the migrations' content: each test's database is
// a copy of it, which is faster than migrating every time and always matches migrations/.
std::string template_name() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(HERALD_SOURCE_DIR "/migrations"))
    if (e.path().extension() == ".sql") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string all;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    all += f.filename().string() + text.str();
  }
  return "herald_template_" + std::to_string(std::hash<std::string>{}(all) % 1000000000);
}

void create_from_template(const std::string& admin_url, const std::string& name) {
  const auto tmpl = template_name();
  pqxx::connection admin(admin_url);
  pqxx::nontransaction n(admin);
  // Serialises template creation and copying: a template must have no other session while copied.
  n.exec("SELECT pg_advisory_lock(7310002)");
  try {
    if (n.exec("SELECT 1 FROM pg_database WHERE datname = " + n.quote(tmpl)).empty()) {
      const auto building = tmpl + "_building";
      n.exec("DROP DATABASE IF EXISTS " + building + " WITH (FORCE)");
      n.exec("CREATE DATABASE " + building);
      {
        herald::store::Database db(with_database(admin_url, building), 1);
        herald::store::migrate(db, HERALD_SOURCE_DIR "/migrations");
      }
      n.exec("ALTER DATABASE " + building + " RENAME TO " + tmpl);
    }
    n.exec("CREATE DATABASE " + name + " TEMPLATE " + tmpl);
  } catch (...) {
    n.exec("SELECT pg_advisory_unlock(7310002)");
    throw;
  }
  n.exec("SELECT pg_advisory_unlock(7310002)");
}

}  // namespace

std::string test_pg_admin_url() {
  const char* dir = std::getenv("HERALD_TEST_PG_DIR");
  if (dir == nullptr || *dir == '\0')
    throw std::runtime_error(
        "HERALD_TEST_PG_DIR is not set: run via ctest, or `scripts/test-postgres start DIR` and export it");
  std::ifstream in(std::string(dir) + "/url");
  std::string url;
  if (!std::getline(in, url) || url.empty())
    throw std::runtime_error(std::string("no test Postgres URL in ") + dir + "/url");
  return url;
}

TestDb::TestDb(std::size_t pool_size) : admin_url_(test_pg_admin_url()), name_(unique_db_name()) {
  create_from_template(admin_url_, name_);
  open(pool_size);
}

TestDb::TestDb(Empty, std::size_t pool_size) : admin_url_(test_pg_admin_url()), name_(unique_db_name()) {
  admin_exec(admin_url_, "CREATE DATABASE " + name_);
  open(pool_size);
}

void TestDb::open(std::size_t pool_size) {
  url_ = with_database(admin_url_, name_);
  try {
    db_ = std::make_unique<herald::store::Database>(url_, pool_size);
  } catch (...) {
    db_.reset();
    admin_exec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    throw;
  }
}

TestDb::~TestDb() {
  db_.reset();  // close the pool's connections first
  try {
    admin_exec(admin_url_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // A leaked database in a throwaway cluster is harmless; never throw from a destructor.
  }
}

void TestDb::exec(const std::string& sql) {
  pqxx::connection c(url_);
  pqxx::nontransaction n(c);
  n.exec(sql);
}

std::string TestDb::query_value(const std::string& sql) {
  pqxx::connection c(url_);
  pqxx::nontransaction n(c);
  const auto r = n.exec(sql);
  if (r.empty() || r.columns() == 0) throw std::runtime_error("query returned no rows: " + sql);
  return r[0][0].is_null() ? std::string() : r[0][0].c_str();
}

}  // namespace herald::test

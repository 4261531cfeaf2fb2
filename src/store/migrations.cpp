// Applies the numbered SQL files in migrations/ and records each in herald.schema_migrations.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>

#include "pg.hpp"

namespace herald::store {

namespace {

struct MigrationFile {
  int version;
  std::string name;
  std::filesystem::path path;
};

std::vector<MigrationFile> migration_files(const std::string& dir) {
  std::vector<MigrationFile> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() != ".sql" || name.size() < 5) continue;
    const auto digits = name.substr(0, name.find('_'));
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
    out.push_back({std::stoi(digits), name, entry.path()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return out;
}

const char* const kCreateMigrationsTable =
    "CREATE SCHEMA IF NOT EXISTS herald;"
    "CREATE TABLE IF NOT EXISTS herald.schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

std::vector<int> applied_versions(pqxx::transaction_base& t) {
  std::vector<int> out;
  for (const auto& row : t.exec("SELECT version FROM herald.schema_migrations")) out.push_back(row[0].as<int>());
  return out;
}

}  // namespace

int migrate(Database& db, const std::string& dir) {
  const auto files = migration_files(dir);
  int applied = 0;
  with_connection(db, [&](pqxx::connection& c) {
    {
      pqxx::work w(c);
      // Serialise concurrent migrators (several heraldd starting at once).
      w.exec("SELECT pg_advisory_xact_lock(7310001)");
      w.exec(kCreateMigrationsTable);
      w.commit();
    }
    for (const auto& f : files) {
      pqxx::work w(c);
      w.exec("SELECT pg_advisory_xact_lock(7310001)");
      const auto done = applied_versions(w);
      if (std::find(done.begin(), done.end(), f.version) != done.end()) continue;
      std::ifstream in(f.path);
      std::stringstream sql;
      sql << in.rdbuf();
      w.exec(sql.str());
      w.exec_params("INSERT INTO herald.schema_migrations (version, name) VALUES ($1, $2)", f.version, f.name);
      w.commit();
      spdlog::info("applied migration {}", f.name);
      ++applied;
    }
  });
  return applied;
}

bool migrations_current(Database& db, const std::string& dir) {
  const auto files = migration_files(dir);
  bool current = true;
  with_connection(db, [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    auto exists = n.exec("SELECT to_regclass('herald.schema_migrations') IS NOT NULL")[0][0].as<bool>();
    if (!exists) {
      current = files.empty();
      return;
    }
    const auto done = applied_versions(n);
    for (const auto& f : files)
      if (std::find(done.begin(), done.end(), f.version) == done.end()) current = false;
  });
  return current;
}

}  // namespace herald::store

// Persistent settings in herald.settings; first writer wins.
#include "herald/store/settings.hpp"

#include "pg.hpp"

namespace herald::store {

std::string get_or_create_setting(Database& db, std::string_view key, const std::function<std::string()>& make_value) {
  return in_transaction(db, [&](pqxx::work& w) {
    w.exec_params("INSERT INTO herald.settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                  std::string(key), make_value());
    return w.exec_params("SELECT value FROM herald.settings WHERE key = $1", std::string(key))[0][0].as<std::string>();
  });
}

}  // namespace herald::store

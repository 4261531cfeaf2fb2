// Connection pool: a fixed number of lazily opened libpqxx connections.
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "pg.hpp"

namespace herald::store {

struct Database::Impl {
  std::string url;
  std::size_t size = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<pqxx::connection>> idle;  // null entries: not yet opened
  std::size_t out = 0;
};

Database::Database(std::string url, std::size_t pool_size) : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  impl_->size = pool_size == 0 ? 1 : pool_size;
  impl_->idle.resize(impl_->size);
}

Database::~Database() = default;

const std::string& Database::url() const { return impl_->url; }
std::size_t Database::pool_size() const { return impl_->size; }

ConnectionLease::ConnectionLease(Database& db) : pool_(db.impl()) {
  std::unique_lock lock(pool_.mu);
  pool_.cv.wait(lock, [&] { return !pool_.idle.empty(); });
  conn_ = std::move(pool_.idle.back());
  pool_.idle.pop_back();
}

ConnectionLease::~ConnectionLease() {
  std::lock_guard lock(pool_.mu);
  pool_.idle.push_back(std::move(conn_));
  pool_.cv.notify_one();
}

pqxx::connection& ConnectionLease::get() {
  if (!conn_ || !conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(pool_.url);
  return *conn_;
}

void ConnectionLease::discard() { conn_.reset(); }

void with_connection(Database& db, const std::function<void(pqxx::connection&)>& fn) {
  ConnectionLease lease(db);
  for (int attempt = 0;; ++attempt) {
    try {
      fn(lease.get());
      return;
    } catch (const pqxx::in_doubt_error&) {
      lease.discard();
      throw;
    } catch (const pqxx::broken_connection& e) {
      lease.discard();
      // A pooled connection may have died with a Postgres restart; one fresh try.
      if (attempt > 0) throw;
      spdlog::warn("database connection lost ({}); reconnecting", e.what());
    }
  }
}

bool Database::ping() {
  try {
    with_connection(*this, [](pqxx::connection& c) {
      pqxx::nontransaction n(c);
      n.exec("SELECT 1");
    });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace herald::store

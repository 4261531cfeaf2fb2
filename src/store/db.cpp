// Connection pool: a fixed number of lazily opened libpqxx connections.
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include <spdlog/spdlog.h>

#include "herald/store/pool.hpp"
#include "pg.hpp"

namespace herald::store {

struct Database::Impl {
  std::string url;
  std::size_t size = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<pqxx::connection>> idle;  // null entries: not yet opened
  std::size_t out = 0;
  std::size_t reserved = 0;  // left to foreground callers

  // Idle connections the calling thread may take.
  std::size_t takeable() const {
    if (!BackgroundWork::active()) return idle.size();
    return idle.size() > reserved ? idle.size() - reserved : 0;
  }
};

namespace {
thread_local int background_depth = 0;
}  // namespace

BackgroundWork::BackgroundWork() { ++background_depth; }
BackgroundWork::~BackgroundWork() { --background_depth; }
bool BackgroundWork::active() { return background_depth > 0; }

Database::Database(std::string url, std::size_t pool_size) : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  impl_->size = pool_size == 0 ? 1 : pool_size;
  impl_->idle.resize(impl_->size);
  impl_->reserved = impl_->size < 2 ? 0 : std::max<std::size_t>(1, impl_->size / 4);
}

Database::~Database() = default;

const std::string& Database::url() const { return impl_->url; }
std::size_t Database::pool_size() const { return impl_->size; }
std::size_t reserved_for_foreground(Database& db) { return db.impl().reserved; }

std::size_t available_connections(Database& db) {
  std::lock_guard lock(db.impl().mu);
  return db.impl().takeable();
}

ConnectionLease::ConnectionLease(Database& db) : pool_(db.impl()) {
  std::unique_lock lock(pool_.mu);
  pool_.cv.wait(lock, [&] { return pool_.takeable() > 0; });
  conn_ = std::move(pool_.idle.back());
  pool_.idle.pop_back();
}

ConnectionLease::~ConnectionLease() {
  std::lock_guard lock(pool_.mu);
  pool_.idle.push_back(std::move(conn_));
  // Every waiter looks: the one woken alone might be background work that may not take it.
  pool_.cv.notify_all();
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

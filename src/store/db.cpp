// Connection pool: a fixed number of lazily opened libpqxx connections.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

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
thread_local ConnectionTimes* timed = nullptr;

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

void name_this_thread(const char* name) {
  char shown[16] = {0};
  std::snprintf(shown, sizeof shown, "%s", name);
  pthread_setname_np(pthread_self(), shown);
}

namespace {
std::atomic<int> background_thread_nice{0};
}  // namespace

void set_background_thread_nice(int nice) { background_thread_nice = std::clamp(nice, 0, 19); }

void enter_background_thread(const char* name) {
  name_this_thread(name);
  const int nice = background_thread_nice;
  if (nice == 0) return;
  // PRIO_PROCESS with a thread id sets that thread's nice value alone (Linux: nice is per thread).
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (errno == 0 && current >= nice) return;
  if (setpriority(PRIO_PROCESS, tid, nice) != 0)
    spdlog::warn("{}: could not raise the thread's nice value to {}: {}", name, nice, std::strerror(errno));
}

TimeConnections::TimeConnections() { timed = &times_; }
TimeConnections::~TimeConnections() { timed = nullptr; }

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
  const auto asked = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  std::unique_lock lock(pool_.mu);
  pool_.cv.wait(lock, [&] { return pool_.takeable() > 0; });
  conn_ = std::move(pool_.idle.back());
  pool_.idle.pop_back();
  if (timed) {
    taken_at_ = std::chrono::steady_clock::now();
    timed->wait_seconds += seconds_between(asked, taken_at_);
  }
}

ConnectionLease::~ConnectionLease() {
  if (timed && taken_at_ != std::chrono::steady_clock::time_point{}) {
    timed->held_seconds += seconds_between(taken_at_, std::chrono::steady_clock::now());
    ++timed->leases;
    if (conn_ && conn_->is_open()) timed->backend_pid = conn_->backendpid();
  }
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

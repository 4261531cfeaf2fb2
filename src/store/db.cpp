// Connection pool: a fixed number of lazily opened libpqxx connections.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "herald/store/pool.hpp"
#include "pg.hpp"

namespace herald::store {

struct Database::Impl {
  std::string url;
  SessionSettings session;
  std::size_t size = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<pqxx::connection>> idle;  // null entries: not yet opened
  std::size_t out = 0;
  std::size_t reserved = 0;  // left to foreground callers
  // The nice value each open connection's backend was given (absent: Postgres's own, 0).
  std::map<const pqxx::connection*, int> backend_nice;

  int nice_of(const pqxx::connection* c) const {
    auto it = backend_nice.find(c);
    return it == backend_nice.end() ? 0 : it->second;
  }

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

namespace {
std::atomic<int> background_backend_nice{0};
std::atomic<bool> backend_renice_works{true};

// True when the connection's backend is a process of this host that heraldd can tell is that
// backend: its title ("postgres: user database host(port) state") names this connection's local
// port, or [local] for a Unix socket. A Postgres on another host, or in another pid namespace,
// has pids that mean nothing here.
bool backend_is_local(pqxx::connection& c) {
  std::ifstream f("/proc/" + std::to_string(c.backendpid()) + "/cmdline");
  const std::string title((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (title.rfind("postgres: ", 0) != 0) return false;
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(c.sock(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return false;
  if (address.ss_family == AF_UNIX) return title.find(" [local] ") != std::string::npos;
  const auto port = address.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port)
                                                 : ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return title.find("(" + std::to_string(port) + ")") != std::string::npos;
}
}  // namespace

void set_background_backend_nice(int nice) {
  background_backend_nice = std::clamp(nice, 0, 19);
  backend_renice_works = true;
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
void Database::set_session(SessionSettings settings) { impl_->session = std::move(settings); }
std::size_t Database::pool_size() const { return impl_->size; }
std::size_t reserved_for_foreground(Database& db) { return db.impl().reserved; }

std::size_t available_connections(Database& db) {
  std::lock_guard lock(db.impl().mu);
  return db.impl().takeable();
}

namespace {
std::atomic<bool> backend_lowering_refused{false};

// One round trip when a connection opens. The application name is set only where the URL (or
// PGAPPNAME) gave none.
void start_session(const SessionSettings& s, pqxx::connection& conn) {
  if (s.application_name.empty() && s.idle_transaction_timeout.count() == 0) return;
  pqxx::nontransaction n(conn);
  n.exec_params(
      "SELECT CASE WHEN $1::bigint > 0"
      " THEN set_config('idle_in_transaction_session_timeout', $1::text, false) END,"
      " CASE WHEN $2 <> '' AND current_setting('application_name') = ''"
      " THEN set_config('application_name', $2, false) END",
      static_cast<long long>(s.idle_transaction_timeout.count()), s.application_name);
}

// Gives the connection's backend the caller's priority: `database.background_nice` for
// background work, 0 for a request. Raising a process's nice value needs its owner's user
// (Postgres's) or CAP_SYS_NICE, lowering it again CAP_SYS_NICE. Without the first nothing is
// reniced; without the second a request that finds only reniced connections idle runs on one.
void give_caller_priority(Database::Impl& pool, pqxx::connection& conn) {
  const int level = background_backend_nice;
  if (level == 0 || !backend_renice_works) return;
  const int want = BackgroundWork::active() ? level : 0;
  int current = 0;
  {
    std::lock_guard lock(pool.mu);
    current = pool.nice_of(&conn);
  }
  if (current == want) return;
  if (!backend_is_local(conn)) {
    if (backend_renice_works.exchange(false))
      spdlog::info("database.background_nice: Postgres's backends are not processes of this host; not reniced");
    return;
  }
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(conn.backendpid()), want) != 0) {
    const auto why = std::strerror(errno);
    if (want > current) {
      if (backend_renice_works.exchange(false))
        spdlog::warn("database.background_nice: cannot renice Postgres's backends ({}); heraldd needs Postgres's user,"
                     " root or CAP_SYS_NICE; background statements run at Postgres's priority",
                     why);
    } else if (!backend_lowering_refused.exchange(true)) {
      spdlog::warn("database.background_nice: cannot give a reniced backend its priority back ({}; needs CAP_SYS_NICE);"
                   " a request finding only such connections idle runs at theirs",
                   why);
    }
    return;
  }
  std::lock_guard lock(pool.mu);
  pool.backend_nice[&conn] = want;
}
}  // namespace

ConnectionLease::ConnectionLease(Database& db) : pool_(db.impl()) {
  const auto asked = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  std::unique_lock lock(pool_.mu);
  pool_.cv.wait(lock, [&] { return pool_.takeable() > 0; });
  // The newest idle connection; with backends reniced for background work, the newest whose
  // backend has the caller's priority, else one not yet opened, else the newest. So the
  // connections background work has used stay its own and requests keep the others.
  auto pick = pool_.idle.end() - 1;
  if (background_backend_nice > 0 && backend_renice_works) {
    const bool background = BackgroundWork::active();
    const auto fits = [&](const std::unique_ptr<pqxx::connection>& c) {
      return c && (pool_.nice_of(c.get()) > 0) == background;
    };
    auto found = std::find_if(pool_.idle.rbegin(), pool_.idle.rend(), fits);
    if (found == pool_.idle.rend())
      found = std::find_if(pool_.idle.rbegin(), pool_.idle.rend(), [](const auto& c) { return !c; });
    if (found != pool_.idle.rend()) pick = std::prev(found.base());
  }
  conn_ = std::move(*pick);
  pool_.idle.erase(pick);
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
  if (!conn_ || !conn_->is_open()) {
    discard();
    conn_ = std::make_unique<pqxx::connection>(pool_.url);
    start_session(pool_.session, *conn_);
  }
  give_caller_priority(pool_, *conn_);
  return *conn_;
}

void ConnectionLease::discard() {
  if (conn_) {
    std::lock_guard lock(pool_.mu);
    pool_.backend_nice.erase(conn_.get());
  }
  conn_.reset();
}

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

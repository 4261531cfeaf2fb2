// The connection pool against a real Postgres: background work leaves the reserved connections to requests.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "herald/store/db.hpp"
#include "herald/store/pool.hpp"
#include "store/pg.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::TestDb;

// A storm keeps the engine's threads on every connection they may take; an API request must
// still find one at once, and background work waits for its own share instead.
TEST(StorePool, BackgroundWorkLeavesTheReservedConnectionsToRequests) {
  TestDb t;
  Database db(t.url(), 4);
  ASSERT_EQ(reserved_for_foreground(db), 1u);
  std::vector<std::unique_ptr<ConnectionLease>> held;
  {
    const BackgroundWork background;
    EXPECT_EQ(available_connections(db), 3u);
    for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<ConnectionLease>(db));
    EXPECT_EQ(available_connections(db), 0u);  // the idle one left is the foreground's
  }
  EXPECT_EQ(available_connections(db), 1u);

  std::atomic<bool> worker_got{false};
  std::thread worker([&] {
    const BackgroundWork background;
    ConnectionLease lease(db);  // waits: only the reserved connection is idle
    worker_got = true;
  });
  {
    ConnectionLease request(db);  // a request takes it at once
    pqxx::nontransaction n(request.get());
    EXPECT_EQ(n.exec("SELECT 1")[0][0].as<int>(), 1);
  }
  held.pop_back();  // a background connection comes back: the waiting thread takes that one
  worker.join();
  EXPECT_TRUE(worker_got);
}

TEST(StorePool, ASmallPoolReservesNothingAndBackgroundWorkStillRuns) {
  TestDb t;
  Database one(t.url(), 1);
  EXPECT_EQ(reserved_for_foreground(one), 0u);
  const BackgroundWork background;
  EXPECT_EQ(available_connections(one), 1u);
  Database eight(t.url(), 8);
  EXPECT_EQ(reserved_for_foreground(eight), 2u);
  EXPECT_EQ(available_connections(eight), 6u);
}

// A thread doing background work runs at the configured nice value for good, and so do the
// threads it starts (a round's sends); the threads that serve requests are left as they were.
TEST(StorePool, ABackgroundThreadAndTheThreadsItStartsRunAtTheBackgroundNiceValue) {
  const auto nice_of_this_thread = [] {
    errno = 0;
    return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  };
  const int before = nice_of_this_thread();
  ASSERT_LT(before, 7) << "the test runs niced already";
  set_background_thread_nice(7);
  int background = -100, started_by_it = -100;
  std::thread worker([&] {
    enter_background_thread("test-background");
    background = nice_of_this_thread();
    std::thread([&] { started_by_it = nice_of_this_thread(); }).join();
  });
  worker.join();
  std::thread request([&] { EXPECT_EQ(nice_of_this_thread(), before); });
  request.join();
  set_background_thread_nice(0);
  EXPECT_EQ(background, 7);
  EXPECT_EQ(started_by_it, 7);
  EXPECT_EQ(nice_of_this_thread(), before);
}

// A transaction left open by a process frozen between two statements: Postgres ends it after the
// pool's idle timeout, so its row lock goes to the next to ask (another instance's claim), and
// the pool opens a fresh connection on its next use. The session carries the pool's name.
TEST(StorePool, ATransactionLeftIdlePastTheTimeoutIsEndedAndItsRowLocksFreed) {
  TestDb t;
  t.exec("CREATE TABLE scratch_rows (id int PRIMARY KEY); INSERT INTO scratch_rows VALUES (1)");
  Database db(t.url(), 1);
  db.set_session({"heraldd pool-test", std::chrono::milliseconds(2000)});
  const auto free_rows = [&] {
    return t.query_value("SELECT count(*) FROM (SELECT id FROM scratch_rows FOR UPDATE SKIP LOCKED) r");
  };
  auto lease = std::make_unique<ConnectionLease>(db);
  const int pid = lease->get().backendpid();
  EXPECT_EQ(t.query_value("SELECT application_name FROM pg_stat_activity WHERE pid = " + std::to_string(pid)),
            "heraldd pool-test");
  auto frozen = std::make_unique<pqxx::work>(lease->get());
  frozen->exec("SELECT id FROM scratch_rows FOR UPDATE");
  EXPECT_EQ(free_rows(), "0");  // held while the transaction is open

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (free_rows() != "1" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(free_rows(), "1") << "the idle transaction's lock was never freed";
  EXPECT_EQ(t.query_value("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)), "0");

  EXPECT_ANY_THROW(frozen->exec("SELECT 1"));  // the process, resumed, finds its session gone
  frozen.reset();
  lease.reset();
  int fresh = 0;
  with_connection(db, [&](pqxx::connection& c) { fresh = c.backendpid(); pqxx::nontransaction(c).exec("SELECT 1"); });
  EXPECT_NE(fresh, pid);
}

// A name the URL gives is kept, and a timeout of 0 leaves the session's setting as Postgres has it.
TEST(StorePool, TheUrlsApplicationNameWinsAndNoTimeoutLeavesPostgresOwn) {
  TestDb t;
  const auto url = t.url() + (t.url().find('?') == std::string::npos ? "?" : "&") + "application_name=from-url";
  Database db(url, 1);
  db.set_session({"heraldd pool-test", std::chrono::milliseconds(0)});
  std::string name, timeout;
  with_connection(db, [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    const auto r = n.exec("SELECT current_setting('application_name'), current_setting('idle_in_transaction_session_timeout')");
    name = r[0][0].c_str();
    timeout = r[0][1].c_str();
  });
  EXPECT_EQ(name, "from-url");
  EXPECT_EQ(timeout, t.query_value("SELECT current_setting('idle_in_transaction_session_timeout')"));
}

// With a TimeConnections alive a thread's connections are timed, with the backend that served it.
TEST(StorePool, TimedConnectionsAddUpWaitHoldAndNameTheBackend) {
  TestDb t;
  Database db(t.url(), 2);
  const TimeConnections timed;
  int pid = 0;
  for (int i = 0; i < 2; ++i) {
    ConnectionLease lease(db);
    pqxx::nontransaction n(lease.get());
    pid = n.exec("SELECT pg_backend_pid()")[0][0].as<int>();
  }
  EXPECT_EQ(timed.times().leases, 2);
  EXPECT_EQ(timed.times().backend_pid, pid);
  EXPECT_GT(timed.times().held_seconds, 0.0);
  EXPECT_GE(timed.times().wait_seconds, 0.0);
}

// database.background_nice: background work's connections get backends at the background nice
// value and keep them; a request takes a backend at Postgres's own priority while one is idle,
// and gives a reniced one its priority back when none is. The test runs as root (as CI does),
// which may renice the test cluster's backends.
TEST(StorePool, BackgroundWorksBackendsRunAtTheBackgroundNiceValueAndRequestsKeepTheirs) {
  if (geteuid() != 0) GTEST_SKIP() << "renicing Postgres's backends needs its user, root or CAP_SYS_NICE";
  TestDb t;
  Database db(t.url(), 4);
  set_background_backend_nice(9);
  const auto nice_of = [](int pid) {
    errno = 0;
    return getpriority(PRIO_PROCESS, static_cast<id_t>(pid));
  };
  int background_pid = 0;
  {
    const BackgroundWork background;
    ConnectionLease lease(db);
    background_pid = lease.get().backendpid();
    EXPECT_EQ(nice_of(background_pid), 9);
  }
  int request_pid = 0;
  {
    ConnectionLease request(db);  // the newest idle connection is background work's: not this one
    request_pid = request.get().backendpid();
    EXPECT_NE(request_pid, background_pid);
    EXPECT_EQ(nice_of(request_pid), 0);
  }
  {
    const BackgroundWork background;
    ConnectionLease lease(db);  // its own again, not the request's newer one
    EXPECT_EQ(lease.get().backendpid(), background_pid);
    EXPECT_EQ(nice_of(request_pid), 0);
  }
  {
    std::vector<std::unique_ptr<ConnectionLease>> requests;
    for (int i = 0; i < 3; ++i) {
      requests.push_back(std::make_unique<ConnectionLease>(db));
      EXPECT_NE(requests.back()->get().backendpid(), background_pid);
    }
    ConnectionLease last(db);  // only the reniced one is idle
    EXPECT_EQ(last.get().backendpid(), background_pid);
    EXPECT_EQ(nice_of(background_pid), 0);
  }
  set_background_backend_nice(0);
}

}  // namespace
}  // namespace herald::store

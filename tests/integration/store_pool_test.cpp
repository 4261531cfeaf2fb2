// The connection pool against a real Postgres: background work leaves the reserved connections to requests.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace herald::store

// The text indexer gives way to a dispatch backlog and catches up once it has gone.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "herald/domain/metrics.hpp"
#include "herald/engine/text_indexer.hpp"
#include "herald/store/message_text.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using namespace std::chrono_literals;
using herald::test::insert_message;
using herald::test::MessageRow;
using herald::test::TestDb;

TimePoint now_us() { return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()); }

// Polls until `done` or the deadline.
template <typename F>
bool eventually(F done, std::chrono::seconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

TEST(TextIndexYield, BacklogCountsDueQueueRowsUpToTheLimit) {
  TestDb t;
  for (int i = 0; i < 4; ++i) insert_message(t, MessageRow{});
  EXPECT_EQ(due_dispatch_backlog(t.db(), 10, now_us()), 4u);
  EXPECT_EQ(due_dispatch_backlog(t.db(), 3, now_us()), 3u);  // a probe: it stops at the limit
  EXPECT_EQ(due_dispatch_backlog(t.db(), 0, now_us()), 0u);

  // Leased (due when the lease ends, though due_at stays when it came due) and scheduled rows
  // are not due now.
  t.exec("UPDATE herald.message_queue SET leased_until = now() + interval '5 minutes', lease_owner = 'other'"
         " WHERE message_id = (SELECT min(message_id) FROM herald.message_queue)");
  t.exec("UPDATE herald.message_queue SET due_at = now() + interval '8 hours'"
         " WHERE message_id = (SELECT max(message_id) FROM herald.message_queue)");
  EXPECT_EQ(due_dispatch_backlog(t.db(), 10, now_us()), 2u);
}

TEST(TextIndexYield, IndexerWaitsWhileTheBacklogIsDeepAndCatchesUpAfter) {
  TestDb t;
  MessageRow m;
  m.body = "Crews are restoring power on Willow Lane";
  std::int64_t newest = 0;
  for (int i = 0; i < 3; ++i) newest = insert_message(t, m);
  auto& yielding = metrics::Registry::global().gauge("herald_text_index_yielding", "");
  yielding.set(0);

  engine::TextIndexerConfig config;
  config.batch_size = 100;
  config.pause = 10ms;
  config.poll_interval = 20ms;
  config.yield_backlog = 3;
  config.yield_max = 1h;
  engine::TextIndexer indexer(t.db(), config);
  indexer.start();

  // Three due messages: it gives way before writing anything.
  ASSERT_TRUE(eventually([&] { return yielding.value() == 1.0; }));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_text"), "0");
  EXPECT_EQ(t.query_value("SELECT indexed_through FROM herald.message_text_state"), "0");

  // Dispatch sends one: the backlog is below the mark and the indexer catches up.
  t.exec("DELETE FROM herald.message_queue WHERE message_id = " + std::to_string(newest));
  ASSERT_TRUE(eventually([&] {
    return std::stoll(t.query_value("SELECT indexed_through FROM herald.message_text_state")) >= newest;
  }));
  EXPECT_EQ(yielding.value(), 0.0);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_text WHERE text LIKE '%willow lane%'"), "3");
  indexer.stop();
}

TEST(TextIndexYield, IndexerGivesWayNoLongerThanTheLongestStretch) {
  TestDb t;
  MessageRow m;
  m.body = "Planned maintenance on Birch Road";
  std::int64_t newest = 0;
  for (int i = 0; i < 3; ++i) newest = insert_message(t, m);

  engine::TextIndexerConfig config;
  config.batch_size = 100;
  config.pause = 10ms;
  config.poll_interval = 20ms;
  config.yield_backlog = 2;
  config.yield_max = 200ms;  // the backlog stays: after this the indexer runs anyway
  engine::TextIndexer indexer(t.db(), config);
  indexer.start();
  ASSERT_TRUE(eventually([&] {
    return std::stoll(t.query_value("SELECT indexed_through FROM herald.message_text_state")) >= newest;
  }));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue"), "3");
  indexer.stop();
}

}  // namespace
}  // namespace herald::store

// An outage's messages by channel and status (migration 0024): the counts follow every insert,
// update and delete of messages, whatever statement made it, and folding them keeps the sums.
#include <gtest/gtest.h>

#include "herald/store/outages.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::TestDb;

struct OutageCounts : ::testing::Test {
  TestDb t;

  void SetUp() override {
    t.exec(R"SQL(
INSERT INTO herald.outages (outage_id, status, kind, created_at, updated_at)
VALUES ('O-1', 'confirmed', 'unplanned', now(), now()), ('O-2', 'confirmed', 'unplanned', now(), now());
-- 300 messages of O-1 (sms and voice), 50 of O-2, 40 billing messages about no outage.
INSERT INTO herald.messages (event_id, customer_id, account_id, channel, type, topic, status, outage_id)
SELECT 'outage:O-1', 'c' || i, 'A' || i, CASE WHEN i % 3 = 0 THEN 'voice' ELSE 'sms' END, 'outage.confirmed',
       'outage', 'queued', 'O-1'
FROM generate_series(1, 300) i;
INSERT INTO herald.messages (event_id, customer_id, account_id, channel, type, topic, status, outage_id)
SELECT 'outage:O-2', 'c' || i, 'A' || i, 'sms', 'outage.confirmed', 'outage', 'queued', 'O-2'
FROM generate_series(1, 50) i;
INSERT INTO herald.messages (event_id, customer_id, account_id, channel, type, topic, status)
SELECT 'bill-' || i, 'c' || i, 'A' || i, 'sms', 'bill.ready', 'billing', 'queued' FROM generate_series(1, 40) i;
)SQL");
  }

  // What GET /v1/outages/{id} shows, as "channel/status=n" sorted.
  std::string shown(const std::string& outage_id) {
    const auto detail = get_outage(t.db(), outage_id);
    std::string out;
    for (const auto& [channel, statuses] : detail->counts.notified)
      for (const auto& [status, n] : statuses) out += channel + "/" + status + "=" + std::to_string(n) + " ";
    return out;
  }
  // The same counted from the messages themselves.
  std::string counted(const std::string& outage_id) {
    return t.query_value("SELECT coalesce(string_agg(k, ' ' ORDER BY k) || ' ', '') FROM ("
                         " SELECT channel || '/' || status || '=' || count(*) AS k FROM herald.messages"
                         " WHERE outage_id = '" + outage_id + "' GROUP BY channel, status) c");
  }
};

TEST_F(OutageCounts, FollowInsertsUpdatesAndDeletesOfEveryStatement) {
  EXPECT_EQ(shown("O-1"), "sms/queued=200 voice/queued=100 ");
  EXPECT_EQ(shown("O-2"), "sms/queued=50 ");

  // A dispatch round's kind of update (many rows, several outcomes), a receipt's (one row), a
  // billing message's (no outage), and an update that changes no status.
  t.exec("UPDATE herald.messages SET status = CASE WHEN id % 10 = 0 THEN 'failed' ELSE 'sent' END"
         " WHERE outage_id = 'O-1' AND id % 2 = 0");
  t.exec("UPDATE herald.messages SET status = 'delivered' WHERE id = (SELECT min(id) FROM herald.messages"
         " WHERE outage_id = 'O-1' AND status = 'sent')");
  t.exec("UPDATE herald.messages SET status = 'sent' WHERE outage_id IS NULL");
  t.exec("UPDATE herald.messages SET last_error = 'x' WHERE outage_id = 'O-2'");
  // A message moved from one outage to the other, and some deleted.
  t.exec("UPDATE herald.messages SET outage_id = 'O-2' WHERE id = (SELECT max(id) FROM herald.messages"
         " WHERE outage_id = 'O-1')");
  t.exec("DELETE FROM herald.messages WHERE outage_id = 'O-2' AND id % 7 = 0");

  EXPECT_EQ(shown("O-1"), counted("O-1"));
  EXPECT_EQ(shown("O-2"), counted("O-2"));
  EXPECT_NE(shown("O-1").find("sms/failed="), std::string::npos) << shown("O-1");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.outage_message_counts WHERE outage_id IS NULL"), "0");
}

TEST_F(OutageCounts, FoldingLeavesOneRowPerKeyAndTheSameSums) {
  for (int round = 0; round < 5; ++round)
    t.exec("UPDATE herald.messages SET status = 'sent' WHERE outage_id = 'O-1' AND status = 'queued'"
           " AND id IN (SELECT id FROM herald.messages WHERE outage_id = 'O-1' AND status = 'queued' ORDER BY id"
           " LIMIT 40)");
  const auto before = shown("O-1");
  ASSERT_EQ(before, counted("O-1"));
  ASSERT_GT(std::stoi(t.query_value("SELECT count(*) FROM herald.outage_message_counts WHERE outage_id = 'O-1'")), 4);

  EXPECT_EQ(compact_outage_message_counts(t.db(), 1000), 0u);  // not enough rows to bother
  EXPECT_EQ(compact_outage_message_counts(t.db(), 2), 1u);      // O-1 only: O-2 has one row
  EXPECT_EQ(shown("O-1"), before);
  // One row per key left, and a key whose messages all moved on is gone.
  EXPECT_EQ(t.query_value("SELECT count(*) = count(DISTINCT (channel, status)) FROM herald.outage_message_counts"
                          " WHERE outage_id = 'O-1'"),
            "t");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.outage_message_counts WHERE messages = 0"), "0");
  EXPECT_EQ(shown("O-2"), "sms/queued=50 ");
}

}  // namespace
}  // namespace herald::store

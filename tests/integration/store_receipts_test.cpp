// Delivery receipts against a real Postgres: matched by provider id, statuses only move forward.
#include <gtest/gtest.h>

#include "herald/store/receipts.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::insert_message;
using herald::test::MessageRow;
using herald::test::sql_quote;
using herald::test::test_now;
using herald::test::TestDb;

std::int64_t sent_message(TestDb& t, const std::string& provider_id) {
  MessageRow m;
  m.status = "sent";
  m.provider_id = provider_id;
  m.gateway = "twilio";
  return insert_message(t, m);
}

TEST(StoreReceipts, UnknownProviderIdStoresNothing) {
  TestDb t;
  auto r = apply_delivery_receipt(t.db(), "SM-unknown", MessageStatus::delivered, "", Json::object(), test_now());
  EXPECT_FALSE(r.matched);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.delivery_receipts"), "0");
}

TEST(StoreReceipts, DeliveredMovesForwardAndSetsDeliveredAt) {
  TestDb t;
  const auto id = sent_message(t, "SM1");
  auto r = apply_delivery_receipt(t.db(), "SM1", MessageStatus::delivered, "", {{"MessageStatus", "delivered"}}, test_now());
  EXPECT_TRUE(r.matched);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.message_id, id);
  EXPECT_EQ(r.status, MessageStatus::delivered);
  EXPECT_EQ(t.query_value("SELECT status || ':' || (delivered_at IS NOT NULL) FROM herald.messages"), "delivered:true");
  EXPECT_EQ(t.query_value("SELECT gateway || ':' || status || ':' || (raw ->> 'MessageStatus')"
                          " FROM herald.delivery_receipts WHERE message_id = " + std::to_string(id)),
            "twilio:delivered:delivered");
}

TEST(StoreReceipts, LateAndRepeatedReceiptsNeverMoveBackwards) {
  TestDb t;
  sent_message(t, "SM1");
  ASSERT_TRUE(apply_delivery_receipt(t.db(), "SM1", MessageStatus::delivered, "", {}, test_now()).changed);
  // Out of order: "sent" arrives after "delivered"; a repeat of "delivered"; a contradicting terminal.
  for (auto late : {MessageStatus::sent, MessageStatus::queued, MessageStatus::delivered, MessageStatus::undelivered}) {
    auto r = apply_delivery_receipt(t.db(), "SM1", late, "", {}, test_now());
    EXPECT_TRUE(r.matched);
    EXPECT_FALSE(r.changed) << to_string(late);
    EXPECT_EQ(r.status, MessageStatus::delivered);
  }
  EXPECT_EQ(t.query_value("SELECT status FROM herald.messages"), "delivered");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.delivery_receipts"), "5");  // every receipt is kept
}

TEST(StoreReceipts, UndeliveredRecordsErrorCode) {
  TestDb t;
  MessageRow m;
  m.status = "sending";
  m.provider_id = "SM2";
  insert_message(t, m);
  auto r = apply_delivery_receipt(t.db(), "SM2", MessageStatus::undelivered, "30003", {}, test_now());
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(t.query_value("SELECT status || ':' || last_error FROM herald.messages"), "undelivered:30003");
  EXPECT_EQ(t.query_value("SELECT error_code FROM herald.delivery_receipts"), "30003");
  // The receipt is filed under the gateway of the attempt the provider accepted.
  EXPECT_EQ(t.query_value("SELECT gateway FROM herald.delivery_receipts"), "twilio");
}

TEST(StoreReceipts, StampsTheReceiptAndTheMessageWithTheTimeItIsGiven) {
  TestDb t;
  MessageRow m;
  m.status = "sending";
  m.provider_id = "SM3";
  const auto id = insert_message(t, m);
  ASSERT_TRUE(apply_delivery_receipt(t.db(), "SM3", MessageStatus::delivered, "", {}, test_now()).changed);
  const std::string at = sql_quote(format_time(test_now())) + "::timestamptz";
  EXPECT_EQ(t.query_value("SELECT (received_at = " + at + ")::text FROM herald.delivery_receipts"), "true");
  EXPECT_EQ(t.query_value("SELECT (updated_at = " + at + ")::text || (sent_at = " + at + ")::text || (delivered_at = " +
                          at + ")::text FROM herald.messages WHERE id = " + std::to_string(id)),
            "truetruetrue");
}

}  // namespace
}  // namespace herald::store

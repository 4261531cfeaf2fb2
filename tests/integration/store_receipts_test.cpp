// Delivery receipts against a real Postgres: matched by provider id, statuses only move forward.
#include <gtest/gtest.h>

#include "herald/store/customers.hpp"
#include "herald/store/receipts.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::default_preferences;
using herald::test::insert_message;
using herald::test::make_contact;
using herald::test::make_customer;
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

// A redialled voice message has two accepted calls; only the latest one's statuses count.
TEST(StoreReceipts, AReceiptForAnEarlierCallOfTheMessageIsKeptButMovesNothing) {
  TestDb t;
  MessageRow m;
  m.channel = "voice";
  m.status = "sent";
  m.provider_id = "CA-second";
  m.gateway = "twilio";
  const auto id = insert_message(t, m);
  t.exec("INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, outcome, provider_id)"
         " VALUES (" + std::to_string(id) + ", 0, 'twilio', now() - interval '10 minutes', 'sent', 'CA-first')");
  auto r = apply_delivery_receipt(t.db(), "CA-first", MessageStatus::delivered, "", {}, test_now());
  EXPECT_TRUE(r.matched);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(t.query_value("SELECT status FROM herald.messages"), "sent");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.delivery_receipts WHERE provider_id = 'CA-first'"), "1");
  EXPECT_TRUE(apply_delivery_receipt(t.db(), "CA-second", MessageStatus::delivered, "", {}, test_now()).changed);
  EXPECT_EQ(t.query_value("SELECT status FROM herald.messages"), "delivered");
}

TEST(StoreReceipts, AnUnansweredCallIsQueuedAgainWithItsReceipt) {
  TestDb t;
  ASSERT_TRUE(upsert_customer(t.db(), make_customer("C-1", {"A-1"}, {make_contact(Channel::voice, "+12175550101")}),
                              default_preferences(), "test", test_now())
                  .ok());
  MessageRow m;
  m.channel = "voice";
  m.type = "outage.restored";
  m.topic = "outage";
  m.status = "sent";
  m.provider_id = "CA-1";
  m.gateway = "twilio";
  const auto id = insert_message(t, m);
  const QuietHours defaults{true, LocalTime{22 * 60}, LocalTime{7 * 60}};

  // The rule sees the call's facts; it answers "not yet" for the first receipt.
  std::vector<UnansweredCall> seen;
  std::optional<TimePoint> answer;
  const RedialRule rule{defaults, [&](const UnansweredCall& call) {
                          seen.push_back(call);
                          return answer;
                        }};

  // A delivered call is nothing to redial: the rule is not asked.
  EXPECT_FALSE(apply_delivery_receipt(t.db(), "CA-1", MessageStatus::sent, "", {}, test_now(), &rule).redial_at);
  EXPECT_TRUE(seen.empty());

  auto r = apply_delivery_receipt(t.db(), "CA-1", MessageStatus::undelivered, "no-answer", {}, test_now(), &rule);
  ASSERT_TRUE(r.changed);
  EXPECT_FALSE(r.redial_at);
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].unanswered_calls, 1);
  EXPECT_FALSE(seen[0].urgent);
  EXPECT_EQ(seen[0].timezone, t.query_value("SELECT timezone FROM herald.accounts WHERE account_id = 'A-1'"));
  // The customer's own quiet hours (upsert_customer stored the default preferences' 21:00-08:00).
  EXPECT_EQ(seen[0].quiet_hours.start.minutes, 21 * 60);
  EXPECT_EQ(seen[0].quiet_hours.end.minutes, 8 * 60);
  EXPECT_EQ(t.query_value("SELECT status FROM herald.messages"), "undelivered");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue"), "0");

  // Twilio posting the same final status twice is still one unanswered call, and moves nothing.
  answer = test_now() + Seconds(600);
  EXPECT_FALSE(apply_delivery_receipt(t.db(), "CA-1", MessageStatus::undelivered, "no-answer", {}, test_now(), &rule)
                   .changed);
  EXPECT_EQ(seen.size(), 1U);

  // A later call of the same message: its no-answer, with the rule saying when, queues it again
  // in the receipt's own transaction.
  t.exec("INSERT INTO herald.message_attempts (message_id, attempt, gateway, outcome, provider_id, started_at)"
         " VALUES (" + std::to_string(id) + ", 2, 'twilio', 'sent', 'CA-2', now())");
  t.exec("UPDATE herald.messages SET status = 'sent', provider_id = 'CA-2' WHERE id = " + std::to_string(id));
  r = apply_delivery_receipt(t.db(), "CA-2", MessageStatus::undelivered, "busy", {}, test_now(), &rule);
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[1].unanswered_calls, 2);
  ASSERT_TRUE(r.redial_at);
  EXPECT_EQ(*r.redial_at, *answer);
  EXPECT_EQ(r.status, MessageStatus::queued);
  EXPECT_EQ(r.unanswered_calls, 2);
  EXPECT_EQ(t.query_value("SELECT status FROM herald.messages"), "queued");
  EXPECT_EQ(t.query_value("SELECT lane || ' ' || (due_at = '" + format_time(*answer) +
                          "'::timestamptz) FROM herald.message_queue WHERE message_id = " + std::to_string(id)),
            "2 true");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.messages_by_status"), "0");  // no longer undelivered
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.delivery_receipts WHERE message_id = " + std::to_string(id)),
            "4");
}

}  // namespace
}  // namespace herald::store

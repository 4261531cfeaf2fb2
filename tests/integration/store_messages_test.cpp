// The message log against a real Postgres: keyset pages, filters, summaries and the full message.
#include <gtest/gtest.h>

#include <set>

#include "herald/store/messages.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::insert_message;
using herald::test::MessageRow;
using herald::test::TestDb;

std::vector<std::int64_t> ids_of(const MessagePage& p) {
  std::vector<std::int64_t> out;
  for (const auto& item : p.items) out.push_back(item.id);
  return out;
}

std::vector<std::int64_t> list_ids(TestDb& t, MessageFilter f) {
  f.limit = 500;
  return ids_of(list_messages(t.db(), f));
}

TEST(StoreMessages, KeysetPagesAreNewestFirstAndStableUnderInserts) {
  TestDb t;
  std::vector<std::int64_t> original;
  for (int i = 0; i < 12; ++i) original.push_back(insert_message(t, {}));

  MessageFilter f;
  f.limit = 5;
  std::vector<std::int64_t> seen;
  std::optional<std::int64_t> next;
  int pages = 0;
  do {
    f.before_id = next.value_or(0);
    auto page = list_messages(t.db(), f);
    for (auto id : ids_of(page)) seen.push_back(id);
    next = page.next_before_id;
    ++pages;
    // Newer rows arriving between pages must neither repeat nor push rows into the next page.
    insert_message(t, {});
    insert_message(t, {});
  } while (next && pages < 10);

  EXPECT_EQ(pages, 3);
  std::vector<std::int64_t> expected(original.rbegin(), original.rend());
  EXPECT_EQ(seen, expected);
}

TEST(StoreMessages, LastFullPageHasNoNextCursor) {
  TestDb t;
  for (int i = 0; i < 4; ++i) insert_message(t, {});
  MessageFilter f;
  f.limit = 4;
  auto page = list_messages(t.db(), f);
  EXPECT_EQ(page.items.size(), 4u);
  EXPECT_FALSE(page.next_before_id);
}

TEST(StoreMessages, EveryFilterNarrowsAndFiltersCombine) {
  TestDb t;
  MessageRow base;
  base.created_at = "2026-11-20T10:00:00Z";
  const auto plain = insert_message(t, base);

  auto with = [&](auto change) {
    MessageRow m = base;
    change(m);
    return insert_message(t, m);
  };
  const auto other_customer = with([](MessageRow& m) { m.customer_id = "C-2"; });
  const auto other_account = with([](MessageRow& m) { m.account_id = "A-2"; });
  const auto email = with([](MessageRow& m) {
    m.channel = "email";
    m.address = "ada@example.com";
    m.subject = "Your bill";
  });
  const auto outage = with([](MessageRow& m) {
    m.type = "outage.confirmed";
    m.topic = "outage";
  });
  const auto delivered = with([](MessageRow& m) { m.status = "delivered"; });
  const auto percent = with([](MessageRow& m) { m.body = "Save 100% on paper_less billing"; });
  // Written last, as the outbox would: ids follow created_at (the date filters rely on it).
  const auto later = with([](MessageRow& m) { m.created_at = "2026-11-22T10:00:00Z"; });

  MessageFilter f;
  f.customer_id = "C-2";
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{other_customer}));
  f = {};
  f.account_id = "A-2";
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{other_account}));
  f = {};
  f.address = "ada@example.com";
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{email}));
  f = {};
  f.channel = Channel::email;
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{email}));
  f = {};
  f.type = "outage.confirmed";
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{outage}));
  f = {};
  f.topic = Topic::outage;
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{outage}));
  f = {};
  f.status = MessageStatus::delivered;
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{delivered}));
  f = {};
  f.from = *parse_time("2026-11-21T00:00:00Z");
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{later}));
  f = {};
  f.to = *parse_time("2026-11-22T10:00:00Z");  // exclusive
  EXPECT_EQ(list_ids(t, f).size(), 7u);
  f = {};
  f.q = "100%";
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{percent}));
  f = {};
  f.q = "paper_less";
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{percent}));
  f = {};
  f.q = "Save_100";  // "_" is literal, not a wildcard for the space
  EXPECT_TRUE(list_ids(t, f).empty());
  f = {};
  f.q = "%";  // literal, not "everything"
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{percent}));
  f = {};
  f.q = "YOUR BILL";  // case-insensitive, subject included
  EXPECT_EQ(list_ids(t, f).size(), 7u);
  f = {};
  f.q = "your bill";
  f.channel = Channel::email;
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{email}));
  f = {};
  f.customer_id = "C-1";
  f.status = MessageStatus::queued;
  f.topic = Topic::billing;
  f.from = *parse_time("2026-11-20T00:00:00Z");
  f.to = *parse_time("2026-11-21T00:00:00Z");
  EXPECT_EQ(list_ids(t, f), (std::vector<std::int64_t>{percent, email, other_account, plain}));
}

// Date ranges are served through id bounds (ids follow created_at to within ten minutes): an
// old range deep in the history reads exactly its own messages, page after page.
TEST(StoreMessages, AnOldDateRangeListsExactlyItsMessagesAcrossPages) {
  TestDb t;
  // Thirty days, eight messages a day, three hours apart, written in time order.
  const auto start = *parse_time("2026-10-01T00:00:00Z");
  std::vector<std::pair<TimePoint, std::int64_t>> all;
  for (int i = 0; i < 30 * 8; ++i) {
    MessageRow m;
    const auto at = start + std::chrono::hours(3 * i);
    m.created_at = format_time(at);
    all.emplace_back(at, insert_message(t, m));
  }
  const auto from = *parse_time("2026-10-05T04:00:00Z");
  const auto to = *parse_time("2026-10-09T06:00:00Z");
  std::vector<std::int64_t> expected;
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    if (it->first >= from && it->first < to) expected.push_back(it->second);

  MessageFilter f;
  f.from = from;
  f.to = to;
  f.limit = 7;
  std::vector<std::int64_t> seen;
  std::optional<std::int64_t> next;
  do {
    f.before_id = next.value_or(0);
    auto page = list_messages(t.db(), f);
    for (auto id : ids_of(page)) seen.push_back(id);
    next = page.next_before_id;
  } while (next);
  EXPECT_EQ(seen, expected);
}

// Two writers stamping a few minutes apart may commit in the other order: a message whose id
// is higher than a later-stamped one is still inside or outside a range by its own stamp.
TEST(StoreMessages, DateRangesHoldForMessagesWrittenSlightlyOutOfOrder) {
  TestDb t;
  auto at = [&](const std::string& time) {
    MessageRow m;
    m.created_at = "2026-11-20T" + time + "Z";
    return insert_message(t, m);
  };
  const auto m1 = at("10:00:00");
  const auto m2 = at("11:00:00");
  const auto m3 = at("10:55:00");  // stamped five minutes before m2, written after it
  const auto m4 = at("12:00:00");
  const auto m5 = at("13:00:00");
  using V = std::vector<std::int64_t>;
  auto range = [&](const std::string& from, const std::string& to) {
    MessageFilter f;
    if (!from.empty()) f.from = *parse_time("2026-11-20T" + from + "Z");
    if (!to.empty()) f.to = *parse_time("2026-11-20T" + to + "Z");
    return list_ids(t, f);
  };
  EXPECT_EQ(range("", "10:57:00"), (V{m3, m1}));
  EXPECT_EQ(range("10:58:00", "12:30:00"), (V{m4, m2}));
  EXPECT_EQ(range("10:50:00", "11:00:00"), (V{m3}));
  EXPECT_EQ(range("11:00:00", ""), (V{m5, m4, m2}));
  EXPECT_EQ(range("10:56:00", "10:59:00"), V{});
}

// Rare statuses are found through their own index table and statuses still to go out through
// the dispatch queue: both follow every status change the dispatcher and receipts make.
TEST(StoreMessages, StatusFilterFollowsStatusChanges) {
  TestDb t;
  MessageRow queued;
  const auto a = insert_message(t, queued);
  MessageRow suppressed;
  suppressed.status = "suppressed";
  suppressed.suppression_reason = "opted_out";
  const auto b = insert_message(t, suppressed);
  MessageRow email = queued;
  email.channel = "email";
  email.address = "ada@example.com";
  const auto c = insert_message(t, email);
  MessageRow scheduled;
  scheduled.status = "scheduled";
  const auto d = insert_message(t, scheduled);

  using V = std::vector<std::int64_t>;
  auto with_status = [&](MessageStatus s, std::optional<Channel> ch = std::nullopt) {
    MessageFilter f;
    f.status = s;
    f.channel = ch;
    return list_ids(t, f);
  };
  EXPECT_EQ(with_status(MessageStatus::queued), (V{c, a}));
  EXPECT_EQ(with_status(MessageStatus::scheduled), (V{d}));
  EXPECT_EQ(with_status(MessageStatus::suppressed), (V{b}));
  EXPECT_EQ(with_status(MessageStatus::failed), V{});

  // Dispatch: a is sent, then reported undelivered; c fails; d is cancelled (suppressed).
  const auto sa = std::to_string(a), sc = std::to_string(c), sd = std::to_string(d);
  t.exec("UPDATE herald.messages SET status = 'sent' WHERE id = " + sa +
         "; DELETE FROM herald.message_queue WHERE message_id = " + sa);
  t.exec("UPDATE herald.messages SET status = 'undelivered' WHERE id = " + sa);
  t.exec("UPDATE herald.messages SET status = 'failed', attempts = 3 WHERE id = " + sc +
         "; DELETE FROM herald.message_queue WHERE message_id = " + sc);
  t.exec("UPDATE herald.messages SET status = 'suppressed', suppression_reason = 'cancelled' WHERE id = " + sd +
         "; DELETE FROM herald.message_queue WHERE message_id = " + sd);
  EXPECT_EQ(with_status(MessageStatus::queued), V{});
  EXPECT_EQ(with_status(MessageStatus::scheduled), V{});
  EXPECT_EQ(with_status(MessageStatus::undelivered), (V{a}));
  EXPECT_EQ(with_status(MessageStatus::failed), (V{c}));
  EXPECT_EQ(with_status(MessageStatus::failed, Channel::email), (V{c}));
  EXPECT_EQ(with_status(MessageStatus::failed, Channel::sms), V{});
  EXPECT_EQ(with_status(MessageStatus::suppressed), (V{d, b}));

  // A late delivered receipt moves a past undelivered: it leaves that status's index.
  t.exec("UPDATE herald.messages SET status = 'delivered' WHERE id = " + sa);
  EXPECT_EQ(with_status(MessageStatus::undelivered), V{});
  EXPECT_EQ(with_status(MessageStatus::delivered), (V{a}));
}

TEST(StoreMessages, SummaryHasTheListColumnsAndTheBodysFirst80Characters) {
  TestDb t;
  MessageRow m;
  m.body = std::string(100, 'x');
  m.suppression_reason = "opted_out";
  m.status = "suppressed";
  const auto id = insert_message(t, m);
  auto page = list_messages(t.db(), {});
  ASSERT_EQ(page.items.size(), 1u);
  const auto& item = page.items[0];
  EXPECT_EQ(item.id, id);
  EXPECT_EQ(item.address, "+12175550101");  // as stored: masking is the view's business
  EXPECT_EQ(item.channel, Channel::sms);
  EXPECT_EQ(item.topic, Topic::billing);
  EXPECT_EQ(item.status, MessageStatus::suppressed);
  EXPECT_EQ(item.body_preview, std::string(80, 'x'));
  EXPECT_EQ(item.suppression_reason, "opted_out");
  EXPECT_FALSE(item.gateway);
  EXPECT_FALSE(item.sent_at);
  EXPECT_EQ(item.attempts, 0);
}

TEST(StoreMessages, DetailHasDecisionAttemptsAndReceipts) {
  TestDb t;
  MessageRow m;
  m.gateway = "twilio";
  m.status = "delivered";
  const auto id = insert_message(t, m);
  const auto sid = std::to_string(id);
  t.exec("UPDATE herald.messages SET provider_id = 'SM123',"
         " decision = '{\"rules\": [\"quiet_hours\"], \"to\": \"+12175550101\"}' WHERE id = " + sid);
  t.exec("INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, duration_ms, outcome,"
         " http_status, error_code, detail, provider_id) VALUES"
         " (" + sid + ", 1, 'twilio', '2026-11-20T14:00:00Z', 120, 'retry', 429, NULL, 'slow down', NULL),"
         " (" + sid + ", 2, 'twilio', '2026-11-20T14:00:03Z', 80, 'sent', 201, NULL, '', 'SM123')");
  t.exec("INSERT INTO herald.delivery_receipts (message_id, gateway, provider_id, status, raw, received_at) VALUES"
         " (" + sid + ", 'twilio', 'SM123', 'delivered', '{\"To\": \"+12175550101\", \"MessageStatus\": \"delivered\"}',"
         " '2026-11-20T14:00:05Z')");

  EXPECT_FALSE(get_message_detail(t.db(), id + 1000));
  auto d = get_message_detail(t.db(), id);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->id, id);
  EXPECT_EQ(d->address, "+12175550101");
  EXPECT_EQ(d->body, "Your bill is ready");
  EXPECT_EQ(d->status, MessageStatus::delivered);
  EXPECT_EQ(d->gateway, "twilio");
  EXPECT_EQ(d->provider_id, "SM123");
  EXPECT_EQ(d->decision["rules"][0], "quiet_hours");
  EXPECT_EQ(d->decision["to"], "+12175550101");
  EXPECT_FALSE(d->due_at);
  EXPECT_FALSE(d->delivered_at);
  ASSERT_EQ(d->attempts.size(), 2u);
  EXPECT_EQ(d->attempts[0].outcome, "retry");
  EXPECT_EQ(d->attempts[0].http_status, 429);
  EXPECT_EQ(d->attempts[0].detail, "slow down");
  EXPECT_EQ(format_time(d->attempts[0].started_at), "2026-11-20T14:00:00Z");
  EXPECT_EQ(d->attempts[1].duration_ms, 80);
  EXPECT_FALSE(d->attempts[0].provider_id);
  EXPECT_EQ(d->attempts[1].provider_id, "SM123");
  ASSERT_EQ(d->receipts.size(), 1u);
  EXPECT_EQ(d->receipts[0].status, "delivered");
  EXPECT_EQ(d->receipts[0].gateway, "twilio");
  EXPECT_FALSE(d->receipts[0].error_code);
  EXPECT_EQ(format_time(d->receipts[0].received_at), "2026-11-20T14:00:05Z");
  EXPECT_EQ(d->receipts[0].raw["To"], "+12175550101");
}

}  // namespace
}  // namespace herald::store

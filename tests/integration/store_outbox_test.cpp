// The dispatch queue against a real Postgres: leases touch only the queue row, outcomes end or
// re-queue a message, a lapsed lease's owner can no longer record, and migration 0003 carries
// queued messages and provider ids over from the old layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "herald/store/db.hpp"
#include "herald/store/outbox.hpp"
#include "herald/store/receipts.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"
#include "herald/source_dir.hpp"

namespace herald::store {
namespace {

using namespace std::chrono_literals;
using herald::test::insert_message;
using herald::test::MessageRow;
using herald::test::sql_quote;
using herald::test::test_now;
using herald::test::TestDb;

// Far enough ahead of the rows' now() that every queue row is due.
TimePoint later() { return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()) + 1h; }

std::string id_list(const std::vector<ClaimedMessage>& claimed) {
  std::string out;
  for (const auto& c : claimed) out += (out.empty() ? "" : ",") + std::to_string(c.message.id);
  return out;
}

MessageUpdate attempted(const ClaimedMessage& c, MessageStatus status, TimePoint now) {
  MessageUpdate u;
  u.id = c.message.id;
  u.channel = c.message.channel;
  u.address = c.message.address;
  u.status = status;
  u.attempted = true;
  u.attempt = c.message.attempts + 1;
  u.gateway = "twilio";
  u.started_at = now;
  return u;
}

TEST(StoreOutbox, ClaimLeasesTheQueueRowAndLeavesTheMessageAlone) {
  TestDb t;
  const auto a = insert_message(t, {});
  const auto b = insert_message(t, {});
  MessageRow future;
  future.status = "scheduled";
  const auto c = insert_message(t, future);
  t.exec("UPDATE herald.message_queue SET due_at = now() + interval '1 day' WHERE message_id = " + std::to_string(c));
  const auto before = t.query_value("SELECT string_agg(status || updated_at::text, ',' ORDER BY id) FROM herald.messages");

  const auto now = later();
  const auto claimed = claim_due_messages(t.db(), "w1", 10, now, 30s);
  EXPECT_EQ(id_list(claimed), std::to_string(a) + "," + std::to_string(b));
  for (const auto& m : claimed) {
    EXPECT_EQ(m.message.body, "Your bill is ready");
    EXPECT_EQ(m.message.status, MessageStatus::sending);
    EXPECT_FALSE(m.expired);
  }
  EXPECT_EQ(t.query_value("SELECT string_agg(status || updated_at::text, ',' ORDER BY id) FROM herald.messages"),
            before);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue WHERE lease_owner = 'w1' AND leased_until = " +
                          sql_quote(format_time(now + 30s)) + "::timestamptz AND due_at < now()"),
            "2");
  // Leased rows are not due again until the lease lapses; the scheduled one is not due at all.
  EXPECT_TRUE(claim_due_messages(t.db(), "w2", 10, now, 30s).empty());
}

// Lanes (0017): a due row of a higher lane is claimed before any of a lower lane, however old
// the lower one is; within a lane the oldest due goes first; rows not yet due wait.
TEST(StoreOutbox, ClaimTakesHigherLanesFirstAndTheOldestWithinALane) {
  TestDb t;
  struct Row {
    const char* name;
    Lane lane;
    const char* due;  // relative to now()
  };
  const Row rows[] = {
      {"standard-new", Lane::standard, "-1 hour"},   {"outage-new", Lane::outage, "-2 hours"},
      {"standard-old", Lane::standard, "-3 hours"},  {"outage-old", Lane::outage, "-4 hours"},
      {"outage-later", Lane::outage, "+3 hours"},     {"urgent", Lane::urgent, "-30 minutes"},
      {"verification", Lane::verification, "-10 minutes"},
  };
  std::map<std::int64_t, std::string> names;
  std::map<std::string, Lane> lanes;
  for (const auto& r : rows) {
    MessageRow m;
    m.event_id = r.name;
    const auto id = insert_message(t, m);
    names[id] = r.name;
    lanes[r.name] = r.lane;
    t.exec("UPDATE herald.message_queue SET lane = " + std::to_string(static_cast<int>(r.lane)) +
           ", due_at = now() + interval " + sql_quote(r.due) + " WHERE message_id = " + std::to_string(id));
  }
  const auto now = later();
  std::vector<std::string> order;
  for (int round = 0; round < 8; ++round)
    for (const auto& c : claim_due_messages(t.db(), "w1", 1, now, 30s)) {
      order.push_back(names[c.message.id]);
      EXPECT_EQ(c.lane, lanes[names[c.message.id]]) << names[c.message.id];
    }
  EXPECT_EQ(order, (std::vector<std::string>{"verification", "urgent", "outage-old", "outage-new", "standard-old",
                                             "standard-new"}));

  // One claim of several: the same order across lanes, and the once-later row, now the
  // oldest due of its lane, goes before the other outage rows.
  t.exec("UPDATE herald.message_queue SET lease_owner = NULL, leased_until = NULL, due_at = now() - interval '5 minutes'");
  t.exec("UPDATE herald.message_queue SET due_at = now() - interval '1 hour' WHERE message_id = (SELECT m.id"
         " FROM herald.messages m WHERE m.event_id = 'outage-later')");
  std::vector<std::string> batch;
  for (const auto& c : claim_due_messages(t.db(), "w2", 3, now, 30s)) batch.push_back(names[c.message.id]);
  EXPECT_EQ(batch, (std::vector<std::string>{"verification", "urgent", "outage-later"}));
}

// The check before a chunk tells a round sending a lower lane that a higher one is due; rows
// of a higher lane that are leased or not yet due do not count.
TEST(StoreOutbox, TheCheckBeforeAChunkSeesAHigherLaneDue) {
  TestDb t;
  MessageRow m;
  const auto outage = insert_message(t, m);
  const auto code = insert_message(t, m);
  t.exec("UPDATE herald.message_queue SET lane = 2 WHERE message_id = " + std::to_string(outage));
  t.exec("UPDATE herald.message_queue SET lane = 0, due_at = now() + interval '3 hours' WHERE message_id = " +
         std::to_string(code));
  const auto now = later();
  const auto claimed = claim_due_messages(t.db(), "w1", 10, now, 30s);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].lane, Lane::outage);
  const std::vector<std::int64_t> ids{outage};
  EXPECT_FALSE(check_before_send(t.db(), "w1", ids, now, 30s, Lane::outage).higher_lane_due);

  t.exec("UPDATE herald.message_queue SET due_at = now() WHERE message_id = " + std::to_string(code));
  const auto check = check_before_send(t.db(), "w1", ids, now, 30s, Lane::outage);
  EXPECT_TRUE(check.higher_lane_due);
  EXPECT_EQ(check.leased, ids);
  EXPECT_FALSE(check_before_send(t.db(), "w1", ids, now, 30s, Lane::verification).higher_lane_due);
  // Once the code is leased it is no longer waiting.
  ASSERT_EQ(claim_due_messages(t.db(), "w2", 10, now, 30s).size(), 1u);
  EXPECT_FALSE(check_before_send(t.db(), "w1", ids, now, 30s, Lane::outage).higher_lane_due);
}

// A lease with half its time left is only read by the check; an older one is renewed, and one
// another owner took is neither.
TEST(StoreOutbox, TheCheckRenewsOnlyLeasesMoreThanHalfSpent) {
  TestDb t;
  const auto a = insert_message(t, {});
  const auto b = insert_message(t, {});
  const auto now = later();
  ASSERT_EQ(claim_due_messages(t.db(), "w1", 10, now, 30s).size(), 2u);
  const auto due = [&](std::int64_t id) {
    return t.query_value("SELECT leased_until = " + sql_quote(format_time(now + 30s)) +
                         "::timestamptz FROM herald.message_queue WHERE message_id = " + std::to_string(id));
  };
  const auto fresh = check_before_send(t.db(), "w1", {a}, now + 10s, 30s, Lane::outage);
  EXPECT_EQ(fresh.leased, std::vector<std::int64_t>{a});
  EXPECT_EQ(due(a), "t");  // not rewritten

  const auto old = check_before_send(t.db(), "w1", {a, b}, now + 20s, 30s, Lane::outage);
  std::vector<std::int64_t> leased = old.leased;
  std::sort(leased.begin(), leased.end());
  EXPECT_EQ(leased, (std::vector<std::int64_t>{a, b}));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue WHERE leased_until = " +
                          sql_quote(format_time(now + 50s)) + "::timestamptz"),
            "2");

  EXPECT_TRUE(check_before_send(t.db(), "w2", {a, b}, now + 20s, 30s, Lane::outage).leased.empty());
}

// 0026: a lease leaves due_at as it was. A claim passes over the rows leased by rounds in
// flight, which are still in the due range, and takes a lapsed lease in its old due order,
// before rows that came due after it; the higher-lane probe sees a lapsed lease as due too.
TEST(StoreOutbox, AClaimPassesOverLeasesInFlightAndTakesLapsedOnesInDueOrder) {
  TestDb t;
  std::vector<std::int64_t> ids;
  for (const char* due : {"-3 hours", "-2 hours", "-1 hour"}) {
    ids.push_back(insert_message(t, {}));
    t.exec("UPDATE herald.message_queue SET due_at = now() + interval " + sql_quote(due) +
           " WHERE message_id = " + std::to_string(ids.back()));
  }
  const auto due_at = [&](std::int64_t id) {
    return t.query_value("SELECT due_at FROM herald.message_queue WHERE message_id = " + std::to_string(id));
  };
  const auto first_due = due_at(ids[0]);
  const auto now = later();
  const auto first = claim_due_messages(t.db(), "w1", 1, now, 30s);
  EXPECT_EQ(id_list(first), std::to_string(ids[0]));
  EXPECT_EQ(due_at(ids[0]), first_due);

  // The oldest due row is leased: the next claim passes over it.
  EXPECT_EQ(id_list(claim_due_messages(t.db(), "w2", 10, now + 1s, 60s)),
            std::to_string(ids[1]) + "," + std::to_string(ids[2]));
  EXPECT_TRUE(claim_due_messages(t.db(), "w3", 10, now + 29s, 30s).empty());

  // A row that came due after the first one's lease was taken waits behind it once it lapses.
  const auto newer = insert_message(t, {});
  t.exec("UPDATE herald.message_queue SET due_at = now() - interval '30 minutes' WHERE message_id = " +
         std::to_string(newer));
  EXPECT_EQ(id_list(claim_due_messages(t.db(), "w3", 1, now + 31s, 30s)), std::to_string(ids[0]));
  EXPECT_EQ(id_list(claim_due_messages(t.db(), "w3", 10, now + 31s, 30s)), std::to_string(newer));
  EXPECT_EQ(t.query_value("SELECT lease_owner || ' ' || (leased_until = " + sql_quote(format_time(now + 61s)) +
                          "::timestamptz) FROM herald.message_queue WHERE message_id = " + std::to_string(ids[0])),
            "w3 true");
  EXPECT_EQ(due_at(ids[0]), first_due);

  // The probe of a higher lane passes over a lease in flight and sees it once it lapses.
  t.exec("UPDATE herald.message_queue SET lane = 0 WHERE message_id = " + std::to_string(ids[0]));
  const std::vector<std::int64_t> mine{ids[1]};
  EXPECT_FALSE(check_before_send(t.db(), "w2", mine, now + 40s, 60s, Lane::outage).higher_lane_due);
  EXPECT_TRUE(check_before_send(t.db(), "w2", mine, now + 62s, 60s, Lane::outage).higher_lane_due);
}

// 0026: leasing changes no indexed column of the queue, and the queue's fillfactor leaves room
// on each page for the leased version of every row on it (a claim takes a page's rows in one
// statement, so none of its old versions can be pruned while it runs): every lease is a HOT
// update that inserts no index entry. An owner name as long as an instance's. (A renewal of a
// whole page at once, rare, finds room only as far as the claim's old versions were pruned.)
TEST(StoreOutbox, LeasesAreHotUpdatesOfEveryRowOfAPage) {
  TestDb t;
  t.exec("CREATE EXTENSION IF NOT EXISTS pageinspect");
  constexpr int kRows = 150;
  for (int i = 0; i < kRows; ++i) insert_message(t, {});
  const std::string pages = "generate_series(0, pg_relation_size('herald.message_queue') / 8192 - 1)";
  ASSERT_NE(t.query_value("SELECT count(*) FROM " + pages), "1") << "the test needs several pages";
  ASSERT_NE(t.query_value("SELECT count(*) FROM " + pages), std::to_string(kRows)) << "and several rows per page";
  // Latest versions (their t_ctid is their own place) that are HEAP_ONLY_TUPLE (0x8000): made by
  // a HOT update, reached through the chain from their row's first version, with no index entry
  // of their own.
  const auto heap_only = [&] {
    return t.query_value("SELECT count(*) FROM " + pages + " AS p,"
                         " heap_page_items(get_raw_page('herald.message_queue', p::integer)) AS i"
                         " WHERE i.t_ctid = format('(%s,%s)', p, i.lp)::tid AND i.t_infomask2 & 32768 <> 0");
  };
  ASSERT_EQ(heap_only(), "0");
  const std::string owner = "herald-dispatch-7f9c2d4b1a3e:4194304:0a1b2c3d";
  const auto now = later();
  const auto claimed = claim_due_messages(t.db(), owner, kRows, now, 30s);
  ASSERT_EQ(claimed.size(), static_cast<std::size_t>(kRows));
  EXPECT_EQ(heap_only(), std::to_string(kRows));

  // A renewal changes no indexed column either: a few rows of each page, which fit in the room
  // the claim left without waiting for its old versions to be pruned.
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i < claimed.size(); i += 15) ids.push_back(claimed[i].message.id);
  EXPECT_EQ(renew_leases(t.db(), owner, ids, now + 10s, 30s).size(), ids.size());
  EXPECT_EQ(heap_only(), std::to_string(kRows));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue WHERE leased_until = " +
                          sql_quote(format_time(now + 40s)) + "::timestamptz"),
            std::to_string(ids.size()));
}

TEST(StoreOutbox, SentEndsTheMessageAndKeepsTheProviderIdOnTheAttempt) {
  TestDb t;
  const auto id = insert_message(t, {});
  const auto now = later();
  const auto claimed = claim_due_messages(t.db(), "w1", 10, now, 30s);
  ASSERT_EQ(claimed.size(), 1u);
  auto u = attempted(claimed[0], MessageStatus::sent, now);
  u.provider_id = "SM-77";
  u.outcome = AttemptOutcome::sent;
  EXPECT_EQ(record_dispatch_results(t.db(), "w1", {u}, now), 1u);

  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue"), "0");
  EXPECT_EQ(t.query_value("SELECT status || ':' || attempts || ':' || gateway || ':' || provider_id ||"
                          " ':' || (sent_at IS NOT NULL) FROM herald.messages"),
            "sent:1:twilio:SM-77:true");
  EXPECT_EQ(t.query_value("SELECT attempt || ':' || outcome || ':' || provider_id FROM herald.message_attempts"),
            "1:sent:SM-77");
  // The delivery receipt finds the message through that attempt.
  const auto r = apply_delivery_receipt(t.db(), "SM-77", MessageStatus::delivered, "", Json::object(), test_now());
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.message_id, id);
}

// 0021: the rows of a heap page are claimed and recorded together (ids in order), so the sent
// version of each must find room on its own page: an update that leaves its page is not HOT and
// inserts into every index of herald.messages. Rows as wide as a storm's outage texts.
TEST(StoreOutbox, ABatchRecordedAsSentStaysOnItsPages) {
  TestDb t;
  MessageRow row;
  row.type = "outage.confirmed";
  row.topic = "outage";
  row.body = "Springfield Utilities: power is out at 1234 North Main Street, Apt 5 (storm damage on your feeder). "
             "Crews are on the way; we expect power back by 6:00 PM. Reply OUT to report an outage at your "
             "address, STATUS for the latest, STOP to opt out. " + std::string(250, 'x');
  for (int i = 0; i < 60; ++i) insert_message(t, row);
  const auto pages = "SELECT string_agg(id || ':' || (ctid::text::point)[0], ',' ORDER BY id) FROM herald.messages";
  const auto before = t.query_value(pages);
  ASSERT_NE(t.query_value("SELECT count(DISTINCT (ctid::text::point)[0]) FROM herald.messages"), "60")
      << "the test needs several rows per page";

  const auto now = later();
  const auto claimed = claim_due_messages(t.db(), "w1", 100, now, 30s);
  ASSERT_EQ(claimed.size(), 60u);
  std::vector<MessageUpdate> updates;
  for (const auto& c : claimed) {
    auto u = attempted(c, MessageStatus::sent, now);
    u.provider_id = "SM-" + std::to_string(c.message.id);
    updates.push_back(std::move(u));
  }
  EXPECT_EQ(record_dispatch_results(t.db(), "w1", updates, now), 60u);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.messages WHERE status = 'sent'"), "60");
  EXPECT_EQ(t.query_value(pages), before);
}

// Without a foreign key (0021) attempts go with their message through a trigger, and an outcome
// recorded for a message deleted meanwhile leaves no attempt behind.
TEST(StoreOutbox, AttemptsGoWithTheirMessage) {
  TestDb t;
  const auto kept = insert_message(t, {});
  const auto gone = insert_message(t, {});
  const auto now = later();
  const auto claimed = claim_due_messages(t.db(), "w1", 10, now, 30s);
  ASSERT_EQ(claimed.size(), 2u);
  t.exec("DELETE FROM herald.messages WHERE id = " + std::to_string(gone));
  std::vector<MessageUpdate> updates;
  for (const auto& c : claimed) updates.push_back(attempted(c, MessageStatus::sent, now));
  record_dispatch_results(t.db(), "w1", updates, now);
  EXPECT_EQ(t.query_value("SELECT string_agg(message_id::text, ',') FROM herald.message_attempts"),
            std::to_string(kept));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue"), "0");

  t.exec("DELETE FROM herald.messages WHERE id = " + std::to_string(kept));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_attempts"), "0");
}

TEST(StoreOutbox, RetryMarksTheMessageSendingAndRequeuesIt) {
  TestDb t;
  insert_message(t, {});
  const auto now = later();
  auto claimed = claim_due_messages(t.db(), "w1", 10, now, 30s);
  ASSERT_EQ(claimed.size(), 1u);
  auto u = attempted(claimed[0], MessageStatus::sending, now);
  u.outcome = AttemptOutcome::retry;
  u.http_status = 429;
  u.last_error = "slow down";
  u.due_at = now + 5s;
  EXPECT_EQ(record_dispatch_results(t.db(), "w1", {u}, now), 1u);

  EXPECT_EQ(t.query_value("SELECT status || ':' || attempts || ':' || last_error FROM herald.messages"),
            "sending:1:slow down");
  EXPECT_EQ(t.query_value("SELECT (lease_owner IS NULL) || ':' || (due_at = " + sql_quote(format_time(now + 5s)) +
                          "::timestamptz) FROM herald.message_queue"),
            "true:true");
  EXPECT_TRUE(claim_due_messages(t.db(), "w2", 10, now + 4s, 30s).empty());
  claimed = claim_due_messages(t.db(), "w2", 10, now + 5s, 30s);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].message.attempts, 1);
}

TEST(StoreOutbox, RecordedTextsKeepEveryCharacter) {
  TestDb t;
  insert_message(t, {});
  insert_message(t, {});
  insert_message(t, {});
  const auto now = later();
  auto claimed = claim_due_messages(t.db(), "w1", 10, now, 30s);
  ASSERT_EQ(claimed.size(), 3u);
  // A provider's error text with quotes, a backslash, line breaks, a tab, other control
  // characters, an array literal's own syntax and non-ASCII letters, as it may come back in a
  // response body.
  const std::string odd =
      "He said \"no\" \\ path\\to\r\nline\ttab \x01\x1f {a,b} NULL, 'q' end: Größe ñ 語";
  auto failed = attempted(claimed[0], MessageStatus::failed, now);
  failed.outcome = AttemptOutcome::failed;
  failed.http_status = 400;
  failed.last_error = odd;
  failed.detail = odd;
  failed.error_code = "E\"1";
  failed.provider_id = "id\\1";
  auto retry = attempted(claimed[1], MessageStatus::sending, now);
  retry.outcome = AttemptOutcome::retry;
  retry.due_at = now + 5s;
  retry.next_gateway = "kannel";
  retry.conversation = Json::object({{"expected", {{"Y", "confirm"}}}, {"ttl_seconds", 60}});
  // A sent question opens its conversation with the expected answers as given; a NUL byte,
  // which Postgres text cannot hold, is dropped rather than failing the whole record.
  auto sent = attempted(claimed[2], MessageStatus::sent, now);
  sent.provider_id = "NULL";
  sent.detail = std::string("before\0after", 12);
  sent.conversation = Json::object({{"expected", {{"Y", "pay \"now\", {1}"}}}, {"ttl_seconds", 60}});
  EXPECT_EQ(record_dispatch_results(t.db(), "w1", {failed, retry, sent}, now), 3u);
  const auto id2 = std::to_string(claimed[2].message.id);
  EXPECT_EQ(t.query_value("SELECT provider_id || ' ' || detail FROM herald.message_attempts WHERE message_id = " + id2),
            "NULL beforeafter");
  EXPECT_EQ(t.query_value("SELECT expected->>'Y' FROM herald.conversations WHERE message_id = " + id2),
            "pay \"now\", {1}");

  const auto id0 = std::to_string(claimed[0].message.id);
  EXPECT_EQ(t.query_value("SELECT last_error FROM herald.messages WHERE id = " + id0), odd);
  EXPECT_EQ(t.query_value("SELECT detail FROM herald.message_attempts WHERE message_id = " + id0), odd);
  EXPECT_EQ(t.query_value("SELECT error_code || ' ' || provider_id || ' ' || http_status FROM herald.message_attempts"
                          " WHERE message_id = " + id0),
            "E\"1 id\\1 400");
  const auto id1 = std::to_string(claimed[1].message.id);
  EXPECT_EQ(t.query_value("SELECT status || ' ' || gateway || ' ' || (last_error IS NULL) FROM herald.messages"
                          " WHERE id = " + id1),
            "sending kannel true");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue WHERE message_id = " + id1), "1");
}

TEST(StoreOutbox, DeferralMovesOnlyTheQueueRow) {
  TestDb t;
  insert_message(t, {});
  const auto before = t.query_value("SELECT status || updated_at::text FROM herald.messages");
  const auto now = later();
  const auto claimed = claim_due_messages(t.db(), "w1", 10, now, 30s);
  ASSERT_EQ(claimed.size(), 1u);
  MessageUpdate u;  // rate limited: no attempt, look again in a second
  u.id = claimed[0].message.id;
  u.status = MessageStatus::sending;
  u.due_at = now + 1s;
  EXPECT_EQ(record_dispatch_results(t.db(), "w1", {u}, now), 1u);
  EXPECT_EQ(t.query_value("SELECT status || updated_at::text FROM herald.messages"), before);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_attempts"), "0");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue WHERE lease_owner IS NULL"), "1");
}

TEST(StoreOutbox, AnOwnerWhoseLeaseWasTakenOverRecordsNothing) {
  TestDb t;
  insert_message(t, {});
  const auto now = later();
  const auto first = claim_due_messages(t.db(), "w1", 10, now, 30s);
  ASSERT_EQ(first.size(), 1u);
  const auto second = claim_due_messages(t.db(), "w2", 10, now + 31s, 30s);  // w1's lease lapsed
  ASSERT_EQ(second.size(), 1u);

  auto stale = attempted(first[0], MessageStatus::failed, now);
  stale.outcome = AttemptOutcome::failed;
  EXPECT_EQ(record_dispatch_results(t.db(), "w1", {stale}, now + 32s), 0u);
  EXPECT_EQ(t.query_value("SELECT status FROM herald.messages"), "queued");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_attempts"), "0");

  auto fresh = attempted(second[0], MessageStatus::sent, now + 32s);
  EXPECT_EQ(record_dispatch_results(t.db(), "w2", {fresh}, now + 32s), 1u);
  EXPECT_EQ(t.query_value("SELECT status FROM herald.messages"), "sent");
}

TEST(StoreOutbox, ReleaseMakesLeasedMessagesDueAndQueueDepthCountsByStatus) {
  TestDb t;
  insert_message(t, {});
  insert_message(t, {});
  MessageRow held;
  held.status = "scheduled";
  insert_message(t, held);
  MessageRow done;
  done.status = "sent";
  insert_message(t, done);
  const auto now = later();
  t.exec("UPDATE herald.message_queue q SET due_at = now() + interval '1 day' FROM herald.messages m"
         " WHERE m.id = q.message_id AND m.status = 'scheduled'");
  ASSERT_EQ(claim_due_messages(t.db(), "w1", 10, now, 30s).size(), 2u);
  EXPECT_EQ(release_leases(t.db(), "w1"), 2u);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.message_queue WHERE lease_owner IS NULL AND leased_until IS NULL"),
            "3");
  EXPECT_EQ(claim_due_messages(t.db(), "w2", 10, now, 30s).size(), 2u);  // due at once, leases or not
  const auto depth = queue_depth(t.db());
  const std::vector<std::pair<std::string, double>> expected{{"scheduled", 1}, {"queued", 2}, {"sending", 0}};
  EXPECT_EQ(depth, expected);
}

// Migration 0003 on a database that already holds messages in the 0002 layout.
TEST(StoreOutbox, Migration0003CarriesQueuedMessagesAndProviderIdsOver) {
  TestDb t(TestDb::Empty{});
  EXPECT_EQ(herald::test::migrate_before(t, "0003"), 2);

  t.exec(
      "INSERT INTO herald.messages (event_id, customer_id, account_id, channel, address, type, topic, status,"
      " due_at, lease_owner, provider_id, gateway, attempts) VALUES"
      " ('e1', 'C-1', 'A-1', 'sms', '+12175550101', 'bill.ready', 'billing', 'queued',"
      "  '2026-11-24T14:00:00Z', NULL, NULL, NULL, 0),"
      " ('e2', 'C-1', 'A-1', 'sms', '+12175550101', 'bill.ready', 'billing', 'sending',"
      "  '2026-11-24T14:05:00Z', 'old-owner', NULL, 'twilio', 1),"
      " ('e3', 'C-1', 'A-1', 'sms', '+12175550101', 'bill.ready', 'billing', 'sent',"
      "  NULL, NULL, 'SM-old', 'twilio', 1),"
      " ('e4', 'C-1', 'A-1', 'email', 'a@example.com', 'bill.ready', 'billing', 'sent',"
      "  NULL, NULL, '<m4@example.com>', 'smtp', 1)");
  t.exec("INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, outcome)"
         " SELECT id, 1, 'twilio', now(), 'sent' FROM herald.messages WHERE event_id = 'e3'");
  // 0003 and every later migration.
  EXPECT_EQ(migrate(t.db(), HERALD_SOURCE_DIR "/migrations"), herald::test::migrations_from("0003"));

  EXPECT_EQ(t.query_value("SELECT string_agg(m.event_id || ':' || q.due_at::timestamptz AT TIME ZONE 'UTC' || ':' ||"
                          " coalesce(q.lease_owner, '-'), ',' ORDER BY m.id)"
                          " FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id"),
            "e1:2026-11-24 14:00:00:-,e2:2026-11-24 14:05:00:old-owner");
  // 0026: a lease taken before it lapses when its due_at said.
  EXPECT_EQ(t.query_value("SELECT string_agg(m.event_id || ':' || coalesce((q.leased_until = q.due_at)::text, '-'), ','"
                          " ORDER BY m.id) FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id"),
            "e1:-,e2:true");
  // e3's existing attempt takes its provider id; e4, with no attempt, gets one made for it.
  EXPECT_EQ(t.query_value("SELECT string_agg(m.event_id || ':' || a.attempt || ':' || a.gateway || ':' || a.provider_id,"
                          " ',' ORDER BY m.id) FROM herald.message_attempts a JOIN herald.messages m ON m.id = a.message_id"),
            "e3:1:twilio:SM-old,e4:1:smtp:<m4@example.com>");
  EXPECT_TRUE(apply_delivery_receipt(t.db(), "SM-old", MessageStatus::delivered, "", Json::object(), test_now()).changed);
  EXPECT_EQ(t.query_value("SELECT status FROM herald.messages WHERE event_id = 'e3'"), "delivered");
}

}  // namespace
}  // namespace herald::store

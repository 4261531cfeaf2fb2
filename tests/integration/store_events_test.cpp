// Events against a real Postgres: idempotent batch insert and lookup.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "herald/store/events.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::TestDb;

EventInsert make_event(const std::string& id, const std::string& hash, Json data = {{"amount_due", "82.17"}}) {
  EventInsert e;
  e.event.event_id = id;
  e.event.type = "bill.ready";
  e.event.account_id = "A-1";
  e.event.occurred_at = *parse_time("2026-11-20T10:00:00Z");
  e.event.data = std::move(data);
  e.body_hash = hash;
  return e;
}

TEST(StoreEvents, BatchReportsAcceptedDuplicateAndConflictInInputOrder) {
  TestDb t;
  auto first = insert_events(t.db(), {make_event("ev-1", "h1"), make_event("ev-2", "h2")});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].outcome, InsertOutcome::accepted);
  EXPECT_EQ(first[1].outcome, InsertOutcome::accepted);

  auto r = insert_events(t.db(), {
                                     make_event("ev-3", "h3"),        // new
                                     make_event("ev-1", "h1"),        // stored, same body
                                     make_event("ev-2", "other"),     // stored, other body
                                     make_event("ev-4", "h4"),        // new
                                     make_event("ev-4", "h4"),        // same id earlier in this batch
                                     make_event("ev-3", "changed"),   // earlier in batch, other body
                                 });
  ASSERT_EQ(r.size(), 6u);
  const std::vector<std::string> ids{"ev-3", "ev-1", "ev-2", "ev-4", "ev-4", "ev-3"};
  const std::vector<InsertOutcome> outcomes{InsertOutcome::accepted,  InsertOutcome::duplicate,
                                            InsertOutcome::conflict,  InsertOutcome::accepted,
                                            InsertOutcome::duplicate, InsertOutcome::conflict};
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].event_id, ids[i]) << i;
    EXPECT_EQ(r[i].outcome, outcomes[i]) << i << " " << to_string(r[i].outcome);
  }
  EXPECT_EQ(r[1].seq, first[0].seq);
  EXPECT_EQ(r[4].seq, r[3].seq);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.events"), "4");
  EXPECT_EQ(t.query_value("SELECT string_agg(event_id, ',' ORDER BY seq) FROM herald.events"), "ev-1,ev-2,ev-3,ev-4");
  EXPECT_EQ(t.query_value("SELECT body_hash FROM herald.events WHERE event_id = 'ev-3'"), "h3");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.events WHERE source = 'api' AND status = 'accepted'"), "4");
}

TEST(StoreEvents, IdOfARowInsertedDirectlyIsAConflict) {
  TestDb t;
  t.exec("INSERT INTO herald.events (event_id, type, account_id) VALUES ('db-1', 'bill.ready', 'A-1')");
  auto r = insert_events(t.db(), {make_event("db-1", "h")});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].outcome, InsertOutcome::conflict);
}

TEST(StoreEvents, StoresFieldsAsGiven) {
  TestDb t;
  auto e = make_event("ev-1", "h1", {{"amount_due", "82.17"}, {"lines", {1, 2, 3}}});
  e.event.account_id = "";
  insert_events(t.db(), {e});
  EXPECT_EQ(t.query_value("SELECT account_id IS NULL FROM herald.events"), "t");
  EXPECT_EQ(t.query_value("SELECT data ->> 'amount_due' FROM herald.events"), "82.17");
  EXPECT_EQ(t.query_value("SELECT occurred_at = '2026-11-20T10:00:00Z' FROM herald.events"), "t");
}

TEST(StoreEvents, GetEventShowsStatusAndMessageIds) {
  TestDb t;
  auto r = insert_events(t.db(), {make_event("ev-1", "h1")});
  EXPECT_FALSE(get_event(t.db(), "nope"));

  auto v = get_event(t.db(), "ev-1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->event.seq, r[0].seq);
  EXPECT_EQ(v->event.type, "bill.ready");
  EXPECT_EQ(v->event.account_id, "A-1");
  EXPECT_EQ(format_time(v->event.occurred_at), "2026-11-20T10:00:00Z");
  EXPECT_EQ(v->event.data["amount_due"], "82.17");
  EXPECT_EQ(v->status, EventStatus::accepted);
  EXPECT_TRUE(v->message_ids.empty());
  EXPECT_FALSE(v->processed_at);
  EXPECT_TRUE(v->error.is_null());

  const auto seq = std::to_string(r[0].seq);
  herald::test::MessageRow m;
  const auto m1 = herald::test::insert_message(t, m);
  const auto m2 = herald::test::insert_message(t, m);
  t.exec("UPDATE herald.messages SET event_seq = " + seq);
  t.exec("UPDATE herald.events SET status = 'processed', processed_at = now()");
  v = get_event(t.db(), "ev-1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status, EventStatus::processed);
  EXPECT_EQ(v->message_ids, (std::vector<std::int64_t>{m1, m2}));
  ASSERT_TRUE(v->processed_at);
}

TEST(StoreEvents, RejectedEventCarriesItsError) {
  TestDb t;
  t.exec("INSERT INTO herald.events (event_id, type, status, error) VALUES"
         " ('bad-1', 'nope', 'rejected', '{\"code\": \"unknown_type\", \"field\": \"type\"}')");
  auto v = get_event(t.db(), "bad-1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status, EventStatus::rejected);
  EXPECT_EQ(v->error["code"], "unknown_type");
  EXPECT_TRUE(v->event.account_id.empty());
  EXPECT_EQ(v->error["field"], "type");
}

TEST(StoreEvents, FullBatchOfAThousandGoesInOneCall) {
  TestDb t;
  std::vector<EventInsert> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back(make_event("bulk-" + std::to_string(i), "h" + std::to_string(i)));
  auto r = insert_events(t.db(), batch);
  ASSERT_EQ(r.size(), 1000u);
  for (const auto& x : r) ASSERT_EQ(x.outcome, InsertOutcome::accepted);
  r = insert_events(t.db(), batch);
  for (const auto& x : r) ASSERT_EQ(x.outcome, InsertOutcome::duplicate);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.events"), "1000");
}

TEST(StoreEvents, ConcurrentOverlappingBatchesAcceptEachEventExactlyOnce) {
  TestDb t;
  std::vector<EventInsert> forward, backward;
  for (int i = 0; i < 500; ++i) forward.push_back(make_event("race-" + std::to_string(i), "h" + std::to_string(i)));
  backward.assign(forward.rbegin(), forward.rend());
  std::vector<EventInsertResult> a, b;
  // Opposite orders make the two transactions wait on each other's unique-index entries.
  std::thread ta([&] { a = insert_events(t.db(), forward); });
  std::thread tb([&] { b = insert_events(t.db(), backward); });
  ta.join();
  tb.join();
  ASSERT_EQ(a.size(), 500u);
  ASSERT_EQ(b.size(), 500u);
  int accepted = 0;
  for (const auto* results : {&a, &b})
    for (const auto& r : *results) {
      EXPECT_NE(r.outcome, InsertOutcome::conflict) << r.event_id;
      accepted += r.outcome == InsertOutcome::accepted;
    }
  EXPECT_EQ(accepted, 500);
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.events"), "500");
}

}  // namespace
}  // namespace herald::store

// Outage notices cut into parts written by several workers at once (0025): one message per
// recipient and channel whoever writes which part, a stop mid-notice resumed part by part, and a
// newer notice closing an older one still being written.
#include <chrono>
#include <optional>
#include <thread>

#include <pqxx/pqxx>

#include "herald/engine/fanout.hpp"
#include "herald/engine/outages.hpp"
#include "herald/store/outage_fanout.hpp"
#include "outage_fixture.hpp"

namespace herald {
namespace {

using namespace outage_test;

struct OutageParts : OutageFanout {
  // Chunks of 100 accounts and at most 3 parts: the 1,001 accounts of feeder F-12 are three
  // parts of 334, 334 and 333, each written in four chunks.
  static engine::OutageConfig small_chunks() {
    engine::OutageConfig c;
    c.chunk_accounts = 100;
    c.notice_parts = 3;
    return c;
  }

  // One step of an outage worker: due outages reviewed (a notice and its parts recorded), then
  // one chunk of a part no other transaction holds.
  void step() {
    engine::outage_step(tdb.db(), small_chunks(), rules_config, templates, clock.now(), 100);
  }

  // Two workers at once, each writing parts until none is left to claim.
  void two_workers() {
    auto& e = engine();
    std::thread other([&e] { e.outages_once(); });
    e.outages_once();
    other.join();
  }

  // A transaction holding a part as a chunk in progress holds it.
  struct HeldPart {
    pqxx::connection conn;
    pqxx::work work;
    HeldPart(const std::string& url, const std::string& notice, int part) : conn(url), work(conn) {
      work.exec("SELECT 1 FROM herald.outage_notice_parts WHERE notice_id = " + notice +
                " AND part = " + std::to_string(part) + " FOR UPDATE");
    }
  };

  std::string notice_id(const char* kind) {
    return tdb.query_value(std::string("SELECT id FROM herald.outage_notices WHERE kind = '") + kind + "'");
  }

  // The accounts in each part's range, in part order.
  std::string part_sizes(const std::string& notice, const std::string& outage) {
    return tdb.query_value(
        "WITH b AS (SELECT part, coalesce(lag(last_account) OVER (ORDER BY part), '') AS lo, last_account AS hi"
        " FROM herald.outage_notice_parts WHERE notice_id = " + notice + ")"
        " SELECT string_agg((SELECT count(*) FROM herald.outage_accounts a WHERE a.outage_id = '" + outage +
        "' AND a.account_id > b.lo AND (b.hi = '' OR a.account_id <= b.hi))::text, ',' ORDER BY part) FROM b");
  }

  // (account, channel) pairs of the outage with more than one message.
  std::string doubles(const std::string& outage) {
    return tdb.query_value("SELECT count(*) FROM (SELECT 1 FROM herald.messages WHERE outage_id = '" + outage +
                           "' GROUP BY account_id, channel HAVING count(*) > 1) d");
  }

  void expect_everyone_told_once(const std::string& outage) {
    EXPECT_EQ(doubles(outage), "0");
    EXPECT_EQ(count("outage_id = '" + outage + "' AND channel = 'sms' AND status <> 'suppressed'"),
              std::to_string(expected_sms()));
    EXPECT_EQ(count("outage_id = '" + outage + "' AND channel = 'email' AND status <> 'suppressed'"),
              std::to_string(expected_email()));
    // The notices' counts add up to the messages written, and every notice and part is closed.
    EXPECT_EQ(tdb.query_value("SELECT sum(created) FROM herald.outage_notices WHERE outage_id = '" + outage + "'"),
              count("outage_id = '" + outage + "'"));
    EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.outage_notices WHERE done_at IS NULL"), "0");
    EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.outage_notice_parts WHERE done_at IS NULL"), "0");
  }
};

TEST_F(OutageParts, ANoticeIsCutIntoPartsThatTwoWorkersWriteAtOnceTellingEachRecipientOnce) {
  put("O-20", confirmed());
  step();  // the review cuts the notice; one chunk of part 1
  const auto notice = notice_id("confirmed");
  EXPECT_EQ(part_sizes(notice, "O-20"), "334,334,333");
  EXPECT_EQ(tdb.query_value("SELECT cursor FROM herald.outage_notice_parts WHERE part = 1"), "A0099");

  // While a chunk of part 1 is in progress, another worker writes part 2 beside it.
  {
    HeldPart held(tdb.url(), notice, 1);
    step();
    EXPECT_EQ(tdb.query_value("SELECT string_agg(part || ':' || cursor, ',' ORDER BY part)"
                              " FROM herald.outage_notice_parts"),
              "1:A0099,2:A0433,3:A0667");
    held.work.commit();
  }

  two_workers();
  expect_everyone_told_once("O-20");
  EXPECT_EQ(tdb.query_value("SELECT created FROM herald.outage_notices WHERE id = " + notice),
            count("outage_id = 'O-20'"));
}

TEST_F(OutageParts, AStopMidNoticeIsResumedPartByPartWithNothingWrittenTwiceOrMissed) {
  put("O-21", confirmed());
  step();
  const auto notice = notice_id("confirmed");
  {
    HeldPart held(tdb.url(), notice, 1);  // part 1 busy elsewhere: this worker writes part 2
    step();
    step();
    held.work.abort();
  }
  step();
  EXPECT_EQ(tdb.query_value("SELECT string_agg(part || ':' || cursor || ':' || (done_at IS NOT NULL), ','"
                            " ORDER BY part) FROM herald.outage_notice_parts"),
            "1:A0199:false,2:A0533:false,3:A0667:false");
  const auto written = count("outage_id = 'O-21'");
  EXPECT_EQ(tdb.query_value("SELECT created FROM herald.outage_notices WHERE id = " + notice), written);

  // heraldd restarts: a new engine with two workers goes on from each part's cursor.
  engine_.reset();
  two_workers();
  expect_everyone_told_once("O-21");
}

TEST_F(OutageParts, ANewerNoticeWaitsForAnOlderOnesChunkInProgressThenEachCustomerHasOneMessageTheNewest) {
  put("O-22", confirmed("2026-11-24T20:00:00Z"));
  step();
  step();  // the confirmed notice: 200 of part 1's accounts written
  const auto older = notice_id("confirmed");

  clock.set(at("2026-11-24T17:05:00Z"));
  put("O-22", {{"status", "etr_updated"}, {"etr", "2026-11-25T02:00:00Z"}});
  std::optional<HeldPart> held;
  held.emplace(tdb.url(), older, 2);  // a chunk of the older notice's part 2 in progress
  std::thread review([&] { step(); });
  // The review closing the older notice waits for that chunk (a lock wait shows).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool waiting = false;
  while (!waiting && std::chrono::steady_clock::now() < deadline) {
    waiting = tdb.query_value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                              " AND wait_event_type = 'Lock' AND query LIKE '%outage_notice_parts%'") != "0";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(waiting);
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.outage_notices"), "1");
  held->work.commit();
  review.join();
  held.reset();
  EXPECT_EQ(tdb.query_value("SELECT count(*) FROM herald.outage_notice_parts WHERE notice_id = " + older +
                            " AND done_at IS NULL"),
            "0");

  two_workers();
  expect_everyone_told_once("O-22");
  // Nothing was sent in between: every message the older notice wrote now has the newer text.
  EXPECT_EQ(count("outage_id = 'O-22' AND status <> 'suppressed' AND type <> 'outage.etr_updated'"), "0");
  EXPECT_EQ(tdb.query_value("SELECT replaced FROM herald.outage_notices WHERE kind = 'etr_updated'"),
            count("outage_id = 'O-22' AND decision ? 'replaced'"));
  EXPECT_NE(count("outage_id = 'O-22' AND decision ? 'replaced'"), "0");
}

}  // namespace
}  // namespace herald

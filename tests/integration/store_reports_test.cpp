// Volume reports against a real Postgres: UTC buckets, grouping, the range.
#include <gtest/gtest.h>

#include "herald/store/reports.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::insert_message;
using herald::test::MessageRow;
using herald::test::TestDb;

void seed(TestDb& t) {
  auto at = [&](const char* when, const char* channel, const char* status) {
    MessageRow m;
    m.created_at = when;
    m.channel = channel;
    m.status = status;
    insert_message(t, m);
  };
  at("2026-11-20T09:15:00Z", "sms", "delivered");
  at("2026-11-20T09:45:00Z", "sms", "delivered");
  at("2026-11-20T09:50:00Z", "email", "sent");
  at("2026-11-20T23:59:59Z", "sms", "failed");
  at("2026-11-21T00:00:00Z", "sms", "delivered");
  at("2026-11-25T12:00:00Z", "sms", "delivered");  // outside the range below
}

VolumeQuery query(const std::string& bucket, const std::vector<std::string>& group_by) {
  VolumeQuery q;
  q.from = *parse_time("2026-11-20T00:00:00Z");
  q.to = *parse_time("2026-11-22T00:00:00Z");
  q.bucket = *parse_time_bucket(bucket);
  for (const auto& g : group_by) q.group_by.push_back(*parse_volume_group(g));
  return q;
}

// Rows as {"bucket", <group>: value or null, "count"}, to compare whole rows at a glance.
std::vector<Json> report(TestDb& t, const VolumeQuery& q) {
  std::vector<Json> out;
  for (const auto& row : volume_report(t.db(), q)) {
    Json j = {{"bucket", format_time(row.bucket)}, {"count", row.count}};
    EXPECT_EQ(row.groups.size(), q.group_by.size());
    for (std::size_t i = 0; i < q.group_by.size() && i < row.groups.size(); ++i)
      j[std::string(to_string(q.group_by[i]))] = row.groups[i] ? Json(*row.groups[i]) : Json();
    out.push_back(std::move(j));
  }
  return out;
}

TEST(StoreReports, DayBucketsCountWithinRange) {
  TestDb t;
  seed(t);
  auto r = report(t, query("day", {}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], (Json{{"bucket", "2026-11-20T00:00:00Z"}, {"count", 4}}));
  EXPECT_EQ(r[1], (Json{{"bucket", "2026-11-21T00:00:00Z"}, {"count", 1}}));
}

TEST(StoreReports, HourBucketsGroupedByChannelAndStatus) {
  TestDb t;
  seed(t);
  auto r = report(t, query("hour", {"channel", "status"}));
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0], (Json{{"bucket", "2026-11-20T09:00:00Z"}, {"channel", "email"}, {"status", "sent"}, {"count", 1}}));
  EXPECT_EQ(r[1],
            (Json{{"bucket", "2026-11-20T09:00:00Z"}, {"channel", "sms"}, {"status", "delivered"}, {"count", 2}}));
  EXPECT_EQ(r[2], (Json{{"bucket", "2026-11-20T23:00:00Z"}, {"channel", "sms"}, {"status", "failed"}, {"count", 1}}));
  EXPECT_EQ(r[3],
            (Json{{"bucket", "2026-11-21T00:00:00Z"}, {"channel", "sms"}, {"status", "delivered"}, {"count", 1}}));
}

TEST(StoreReports, GatewayGroupShowsNullForUnsent) {
  TestDb t;
  seed(t);
  auto r = report(t, query("month", {"gateway", "type", "topic"}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0]["gateway"].is_null());
  EXPECT_EQ(r[0]["type"], "bill.ready");
  EXPECT_EQ(r[0]["topic"], "billing");
  EXPECT_EQ(r[0]["count"], 5);
  EXPECT_EQ(r[0]["bucket"], "2026-11-01T00:00:00Z");
}

TEST(StoreReports, AnEmptyRangeHasNoRows) {
  TestDb t;
  seed(t);
  auto q = query("day", {"channel"});
  q.to = q.from;
  EXPECT_TRUE(report(t, q).empty());
}

// Group columns reach the SQL text: only the names of the enum ever parse.
TEST(StoreReports, OnlyKnownBucketsAndGroupColumnsParse) {
  EXPECT_FALSE(parse_time_bucket("minute"));
  EXPECT_FALSE(parse_volume_group("address; DROP TABLE herald.messages"));
  EXPECT_FALSE(parse_volume_group("address"));
  for (auto b : {TimeBucket::hour, TimeBucket::day, TimeBucket::week, TimeBucket::month})
    EXPECT_EQ(parse_time_bucket(to_string(b)), b);
  for (auto g : {VolumeGroup::channel, VolumeGroup::type, VolumeGroup::status, VolumeGroup::topic,
                 VolumeGroup::gateway})
    EXPECT_EQ(parse_volume_group(to_string(g)), g);
}

}  // namespace
}  // namespace herald::store

// Volume reports against a real Postgres: UTC buckets, grouping, validation.
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

VolumeQuery query(std::string bucket, std::vector<std::string> group_by) {
  VolumeQuery q;
  q.from = *parse_time("2026-11-20T00:00:00Z");
  q.to = *parse_time("2026-11-22T00:00:00Z");
  q.bucket = std::move(bucket);
  q.group_by = std::move(group_by);
  return q;
}

TEST(StoreReports, DayBucketsCountWithinRange) {
  TestDb t;
  seed(t);
  auto r = volume_report(t.db(), query("day", {}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], (Json{{"bucket", "2026-11-20T00:00:00Z"}, {"count", 4}}));
  EXPECT_EQ((*r)[1], (Json{{"bucket", "2026-11-21T00:00:00Z"}, {"count", 1}}));
}

TEST(StoreReports, HourBucketsGroupedByChannelAndStatus) {
  TestDb t;
  seed(t);
  auto r = volume_report(t.db(), query("hour", {"channel", "status"}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0], (Json{{"bucket", "2026-11-20T09:00:00Z"}, {"channel", "email"}, {"status", "sent"}, {"count", 1}}));
  EXPECT_EQ((*r)[1],
            (Json{{"bucket", "2026-11-20T09:00:00Z"}, {"channel", "sms"}, {"status", "delivered"}, {"count", 2}}));
  EXPECT_EQ((*r)[2], (Json{{"bucket", "2026-11-20T23:00:00Z"}, {"channel", "sms"}, {"status", "failed"}, {"count", 1}}));
  EXPECT_EQ((*r)[3],
            (Json{{"bucket", "2026-11-21T00:00:00Z"}, {"channel", "sms"}, {"status", "delivered"}, {"count", 1}}));
}

TEST(StoreReports, GatewayGroupShowsNullForUnsent) {
  TestDb t;
  seed(t);
  auto r = volume_report(t.db(), query("month", {"gateway", "type", "topic"}));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_TRUE((*r)[0]["gateway"].is_null());
  EXPECT_EQ((*r)[0]["type"], "bill.ready");
  EXPECT_EQ((*r)[0]["topic"], "billing");
  EXPECT_EQ((*r)[0]["count"], 5);
  EXPECT_EQ((*r)[0]["bucket"], "2026-11-01T00:00:00Z");
}

TEST(StoreReports, BadBucketOrGroupOrRangeIsUnprocessable) {
  TestDb t;
  auto r = volume_report(t.db(), query("minute", {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_EQ(r.error().field, "bucket");
  r = volume_report(t.db(), query("day", {"channel", "address; DROP TABLE herald.messages"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "group_by");
  auto q = query("day", {});
  q.to = q.from;
  r = volume_report(t.db(), q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "to");
}

}  // namespace
}  // namespace herald::store

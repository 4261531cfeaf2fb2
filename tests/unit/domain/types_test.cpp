// Enum names, status ranks, local times and RFC 3339 times.
#include "herald/domain/types.hpp"

#include <date/date.h>
#include <gtest/gtest.h>

namespace herald {
namespace {

using std::chrono::microseconds;

TimePoint at_utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return TimePoint(date::sys_days(date::year{y} / date::month{mo} / date::day{d}).time_since_epoch()) + std::chrono::hours(h) + std::chrono::minutes(mi) + Seconds(s);
}

TEST(Enums, ChannelTopicAndStatusNamesRoundTrip) {
  for (Channel c : kAllChannels) EXPECT_EQ(parse_channel(to_string(c)), c);
  for (Topic t : kAllTopics) EXPECT_EQ(parse_topic(to_string(t)), t);
  for (auto s : {MessageStatus::scheduled, MessageStatus::queued, MessageStatus::sending, MessageStatus::sent,
                 MessageStatus::delivered, MessageStatus::undelivered, MessageStatus::failed,
                 MessageStatus::suppressed}) {
    EXPECT_EQ(parse_message_status(to_string(s)), s);
  }
  EXPECT_EQ(to_string(Channel::email), "email");
  EXPECT_EQ(to_string(Topic::outage), "outage");
  EXPECT_EQ(to_string(ConsentState::opted_out), "opted_out");
  EXPECT_EQ(parse_consent_state("opted_in"), ConsentState::opted_in);
  EXPECT_EQ(to_string(EventStatus::processed), "processed");
  EXPECT_EQ(parse_event_status("rejected"), EventStatus::rejected);
}

TEST(Enums, UnknownNamesAreRejected) {
  EXPECT_FALSE(parse_channel("fax"));
  EXPECT_FALSE(parse_channel("SMS"));
  EXPECT_FALSE(parse_topic(""));
  EXPECT_FALSE(parse_message_status("done"));
  EXPECT_FALSE(parse_consent_state("maybe"));
}

TEST(StatusRank, OrdersLifecycleAndTerminalsShareTheTop) {
  EXPECT_LT(status_rank(MessageStatus::scheduled), status_rank(MessageStatus::queued));
  EXPECT_LT(status_rank(MessageStatus::queued), status_rank(MessageStatus::sending));
  EXPECT_LT(status_rank(MessageStatus::sending), status_rank(MessageStatus::sent));
  for (auto s : {MessageStatus::delivered, MessageStatus::undelivered, MessageStatus::failed,
                 MessageStatus::suppressed}) {
    EXPECT_LT(status_rank(MessageStatus::sent), status_rank(s));
    EXPECT_EQ(status_rank(s), status_rank(MessageStatus::delivered));
  }
}

TEST(LocalTime, ParsesAndFormatsHoursAndMinutes) {
  EXPECT_EQ(parse_local_time("21:00"), LocalTime{21 * 60});
  EXPECT_EQ(parse_local_time("00:00"), LocalTime{0});
  EXPECT_EQ(parse_local_time("23:59"), LocalTime{23 * 60 + 59});
  EXPECT_EQ(format_local_time(LocalTime{8 * 60 + 5}), "08:05");
  EXPECT_EQ(format_local_time(*parse_local_time("13:30")), "13:30");
}

TEST(LocalTime, RejectsMalformedOrOutOfRange) {
  for (const char* bad : {"24:00", "12:60", "8:00", "08:0", "0800", "08:00:00", "ab:cd", "", " 8:00"}) {
    EXPECT_FALSE(parse_local_time(bad)) << bad;
  }
}

TEST(FormatTime, WritesUtcWithZAndDropsZeroMicroseconds) {
  TimePoint t = at_utc(2026, 11, 20, 10, 0, 0);
  EXPECT_EQ(format_time(t), "2026-11-20T10:00:00Z");
  EXPECT_EQ(format_time(t + microseconds(123456)), "2026-11-20T10:00:00.123456Z");
  EXPECT_EQ(format_time(t + microseconds(1)), "2026-11-20T10:00:00.000001Z");
  EXPECT_EQ(format_time(TimePoint{}), "1970-01-01T00:00:00Z");
}

TEST(ParseTime, AcceptsZuluOffsetsAndFractions) {
  TimePoint ten = at_utc(2026, 11, 20, 10, 0, 0);
  EXPECT_EQ(parse_time("2026-11-20T10:00:00Z"), ten);
  EXPECT_EQ(parse_time("2026-11-20T04:00:00-06:00"), ten);
  EXPECT_EQ(parse_time("2026-11-20T15:30:00+05:30"), ten);
  EXPECT_EQ(parse_time("2026-11-20T10:00:00.5Z"), ten + microseconds(500000));
  EXPECT_EQ(parse_time("2026-11-20T10:00:00.123456789Z"), ten + microseconds(123456));
  EXPECT_EQ(parse_time("2026-11-20t10:00:00z"), ten);
  // Postgres' timestamptz text.
  EXPECT_EQ(parse_time("2026-11-20 10:00:00.25+00"), ten + microseconds(250000));
}

TEST(ParseTime, CrossesDateBoundariesWithOffsets) {
  EXPECT_EQ(parse_time("2026-12-31T23:30:00-01:00"), at_utc(2027, 1, 1, 0, 30, 0));
}

TEST(ParseTime, RejectsMalformedTimes) {
  for (const char* bad : {"2026-11-20T10:00:00", "2026-11-20", "2026-02-30T10:00:00Z", "2026-11-20T24:00:00Z",
                          "2026-11-20T10:60:00Z", "2026-11-20T10:00:00.Z", "2026-11-20T10:00:00+2:00",
                          "2026-11-20T10:00:00Zjunk", "20261120T100000Z", "", "2026-13-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_time(bad)) << bad;
  }
}

TEST(ParseTime, RoundTripsFormatTime) {
  TimePoint t = at_utc(2024, 2, 29, 23, 59, 59) + microseconds(42);
  EXPECT_EQ(parse_time(format_time(t)), t);
}

TEST(UnixSeconds, ConvertBothWays) {
  TimePoint t = at_utc(2026, 1, 1, 0, 0, 0);
  EXPECT_EQ(to_unix_seconds(t), 1767225600);
  EXPECT_EQ(from_unix_seconds(1767225600), t);
}

}  // namespace
}  // namespace herald

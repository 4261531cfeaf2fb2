// The event, preferences and volume report views: their JSON and CSV shapes.
#include <gtest/gtest.h>

#include "herald/http/views/events.hpp"
#include "herald/http/views/preferences.hpp"
#include "herald/http/views/reports.hpp"

namespace herald::http::views {
namespace {

store::StoredEvent stored_event() {
  store::StoredEvent e;
  e.event.event_id = "evt-1";
  e.event.type = "bill.ready";
  e.event.account_id = "A-1";
  e.event.occurred_at = *parse_time("2026-11-20T10:00:00Z");
  e.event.data = {{"amount_due", "82.17"}};
  e.status = EventStatus::processed;
  e.message_ids = {4, 5};
  e.received_at = *parse_time("2026-11-20T10:00:01Z");
  e.processed_at = *parse_time("2026-11-20T10:00:02Z");
  return e;
}

TEST(EventView, HasTheEventWhereItStandsAndItsMessages) {
  EXPECT_EQ(event_json(stored_event()), Json::parse(R"({"event_id": "evt-1", "type": "bill.ready",
    "account_id": "A-1", "occurred_at": "2026-11-20T10:00:00Z", "data": {"amount_due": "82.17"},
    "status": "processed", "message_ids": [4, 5], "received_at": "2026-11-20T10:00:01Z",
    "processed_at": "2026-11-20T10:00:02Z"})"));
}

TEST(EventView, ShowsTheErrorOnlyWhenThereIsOneAndNoAccountAsNull) {
  auto e = stored_event();
  e.status = EventStatus::rejected;
  e.processed_at.reset();
  e.event.account_id.clear();
  e.message_ids.clear();
  e.error = {{"code", "unknown_account"}, {"message", "no account"}};
  const auto j = event_json(e);
  EXPECT_EQ(j["status"], "rejected");
  EXPECT_EQ(j["error"]["code"], "unknown_account");
  EXPECT_TRUE(j["account_id"].is_null());
  EXPECT_FALSE(j.contains("processed_at"));
  EXPECT_EQ(j["message_ids"], Json::array());
  EXPECT_FALSE(event_json(stored_event()).contains("error"));
}

TEST(PreferencesView, IsThePreferencesDocumentWithTheContacts) {
  store::PreferencesView v;
  v.preferences.topics[Topic::billing] = {Channel::sms};
  v.preferences.language = "es";
  Contact c;
  c.channel = Channel::sms;
  c.address = "+12175550101";
  c.verified = true;
  c.consent = ConsentState::opted_out;
  v.contacts.push_back(c);
  const auto j = preferences_json(v);
  EXPECT_EQ(j["topics"]["billing"]["channels"], Json::parse(R"(["sms"])"));
  EXPECT_EQ(j["language"], "es");
  EXPECT_EQ(j["contacts"], Json::parse(R"([{"channel": "sms", "address": "+12175550101", "verified": true,
    "consent": "opted_out"}])"));
}

store::VolumeQuery query() {
  store::VolumeQuery q;
  q.from = *parse_time("2026-11-01T00:00:00Z");
  q.to = *parse_time("2026-12-01T00:00:00Z");
  q.bucket = store::TimeBucket::week;
  q.group_by = {store::VolumeGroup::gateway, store::VolumeGroup::channel};
  return q;
}

std::vector<store::VolumeRow> rows() {
  return {{*parse_time("2026-11-02T00:00:00Z"), {std::nullopt, std::string("sms")}, 3},
          {*parse_time("2026-11-09T00:00:00Z"), {std::string("twilio,us"), std::string("sms")}, 12}};
}

TEST(VolumeReportView, JsonNamesEachGroupColumnAndShowsNullForNoValue) {
  EXPECT_EQ(volume_report_json(rows(), query()), Json::parse(R"({
    "rows": [{"bucket": "2026-11-02T00:00:00Z", "gateway": null, "channel": "sms", "count": 3},
             {"bucket": "2026-11-09T00:00:00Z", "gateway": "twilio,us", "channel": "sms", "count": 12}],
    "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "bucket": "week"})"));
  EXPECT_EQ(volume_report_json({}, query())["rows"], Json::array());
}

TEST(VolumeReportView, CsvHasTheColumnsInRequestOrderAndEmptyCellsForNull) {
  EXPECT_EQ(volume_report_csv(rows(), query()),
            "bucket,gateway,channel,count\r\n"
            "2026-11-02T00:00:00Z,,sms,3\r\n"
            "2026-11-09T00:00:00Z,\"twilio,us\",sms,12\r\n");
}

}  // namespace
}  // namespace herald::http::views

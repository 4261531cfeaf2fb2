// The message log's views: the JSON shape of items, pages and details, and masking.
#include "herald/http/views/messages.hpp"

#include <gtest/gtest.h>

#include "herald/domain/phone.hpp"
#include "herald/http/views/cursor.hpp"
#include "herald/http/views/masking.hpp"

namespace herald::http::views {
namespace {

const std::string kPhone = "+12175550101";

store::MessageSummary summary(std::int64_t id) {
  store::MessageSummary m;
  m.id = id;
  m.created_at = *parse_time("2026-11-20T10:00:00Z");
  m.customer_id = "C-1";
  m.account_id = "A-1";
  m.channel = Channel::sms;
  m.address = kPhone;
  m.type = "bill.ready";
  m.topic = Topic::billing;
  m.status = MessageStatus::suppressed;
  m.suppression_reason = "opted_out";
  m.body_preview = "Your bill";
  m.event_id = "evt-1";
  m.not_before = *parse_time("2026-11-20T14:00:00Z");
  return m;
}

store::MessageDetail detail() {
  store::MessageDetail d;
  d.id = 7;
  d.event_seq = 3;
  d.event_id = "evt-1";
  d.customer_id = "C-1";
  d.account_id = "A-1";
  d.contact_id = 11;
  d.channel = Channel::sms;
  d.address = kPhone;
  d.type = "bill.ready";
  d.topic = Topic::billing;
  d.language = "en";
  d.body = "Your bill is ready";
  d.status = MessageStatus::delivered;
  d.decision = {{"rules", {"quiet_hours"}}, {"to", kPhone}, {"consent", "opted_in"}};
  d.not_before = *parse_time("2026-11-20T14:00:00Z");
  d.created_at = *parse_time("2026-11-20T10:00:00Z");
  d.updated_at = *parse_time("2026-11-20T14:00:05Z");
  d.gateway = "twilio";
  d.provider_id = "SM123";
  d.attempt_count = 2;
  d.attempts.push_back({1, "twilio", *parse_time("2026-11-20T14:00:00Z"), 120, "retry", 429, std::nullopt,
                        "slow down", std::nullopt});
  d.attempts.push_back({2, "twilio", *parse_time("2026-11-20T14:00:03Z"), 80, "sent", 201, std::nullopt, "",
                        std::string("SM123")});
  d.receipts.push_back({"delivered", std::nullopt, *parse_time("2026-11-20T14:00:05Z"),
                        Json{{"To", kPhone}, {"MessageStatus", "delivered"}}, "twilio"});
  return d;
}

TEST(MessageViews, SummaryHasEveryFieldOfTheListWithNullsForWhatIsMissing) {
  const auto j = message_summary_json(summary(5), /*reveal=*/false);
  EXPECT_EQ(j, Json::parse(R"({
    "id": 5, "created_at": "2026-11-20T10:00:00Z", "customer_id": "C-1", "account_id": "A-1",
    "channel": "sms", "address": ")" + mask_address(kPhone) + R"(", "type": "bill.ready", "topic": "billing",
    "status": "suppressed", "suppression_reason": "opted_out", "gateway": null, "body_preview": "Your bill",
    "event_id": "evt-1", "attempts": 0, "not_before": "2026-11-20T14:00:00Z", "sent_at": null})"));
}

TEST(MessageViews, AddressIsMaskedUnlessRevealed) {
  EXPECT_NE(message_summary_json(summary(5), false)["address"], kPhone);
  EXPECT_EQ(message_summary_json(summary(5), true)["address"], kPhone);
  EXPECT_EQ(shown_address(kPhone, false), "+1217*****01");
  EXPECT_EQ(shown_address(kPhone, true), kPhone);
}

TEST(MessageViews, PageCarriesTheNextPositionAsACursorOrNull) {
  store::MessagePage page;
  page.items = {summary(9), summary(8)};
  page.next_before_id = 8;
  const auto j = message_page_json(page, false);
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["id"], 9);
  ASSERT_TRUE(j["next_cursor"].is_string());
  EXPECT_EQ(decode_cursor(j["next_cursor"].get<std::string>()), 8);

  page.next_before_id.reset();
  EXPECT_TRUE(message_page_json(page, false)["next_cursor"].is_null());
  EXPECT_EQ(message_page_json(store::MessagePage{}, false), Json::parse(R"({"items": [], "next_cursor": null})"));
}

TEST(MessageViews, DetailHasColumnsAttemptsReceiptsAndTheCompletedDecision) {
  const auto j = message_detail_json(detail(), /*reveal=*/true);
  for (const char* key : {"id", "event_seq", "event_id", "customer_id", "account_id", "contact_id", "channel",
                          "address", "type", "topic", "language", "priority", "urgent", "subject", "body", "html",
                          "segments", "encoding", "status", "suppression_reason", "decision", "not_before",
                          "expires_at", "due_at", "attempt_count", "gateway", "provider_id", "last_error",
                          "created_at", "updated_at", "sent_at", "delivered_at", "conversation", "attempts",
                          "receipts"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j.size(), 35u);
  EXPECT_EQ(j["event_seq"], 3);
  EXPECT_TRUE(j["due_at"].is_null());
  EXPECT_TRUE(j["conversation"].is_null());
  EXPECT_EQ(j["attempts"][0], Json::parse(R"({"attempt": 1, "gateway": "twilio", "started_at": "2026-11-20T14:00:00Z",
    "duration_ms": 120, "outcome": "retry", "http_status": 429, "error_code": null, "detail": "slow down",
    "provider_id": null})"));
  EXPECT_EQ(j["attempts"][1]["provider_id"], "SM123");
  EXPECT_EQ(j["receipts"][0], Json::parse(R"({"status": "delivered", "error_code": null,
    "received_at": "2026-11-20T14:00:05Z", "raw": {"To": "+12175550101", "MessageStatus": "delivered"},
    "gateway": "twilio"})"));
  // What the columns say fills in what the stored decision left out; what it says stays.
  const auto& d = j["decision"];
  EXPECT_EQ(d["event_type"], "bill.ready");
  EXPECT_EQ(d["topic"], "billing");
  EXPECT_EQ(d["channel"], "sms");
  EXPECT_EQ(d["decided_at"], "2026-11-20T10:00:00Z");
  EXPECT_EQ(d["send_at"], "2026-11-20T14:00:00Z");
  EXPECT_FALSE(d.contains("expires_at"));
  EXPECT_EQ(d["contact"], Json::parse(R"({"id": 11, "address": "+12175550101", "consent": "opted_in"})"));
  EXPECT_EQ(d["rules"][0], "quiet_hours");
}

TEST(MessageViews, DetailMasksTheAddressWhereverItRepeatsUnlessRevealed) {
  const auto masked = mask_address(kPhone);
  const auto j = message_detail_json(detail(), /*reveal=*/false);
  EXPECT_EQ(j["address"], masked);
  EXPECT_EQ(j["decision"]["to"], masked);
  EXPECT_EQ(j["decision"]["contact"]["address"], masked);
  EXPECT_EQ(j["receipts"][0]["raw"]["To"], masked);
  EXPECT_EQ(j["receipts"][0]["raw"]["MessageStatus"], "delivered");
  EXPECT_EQ(j.dump().find(kPhone), std::string::npos);

  const auto revealed = message_detail_json(detail(), /*reveal=*/true);
  EXPECT_EQ(revealed["decision"]["to"], kPhone);
  EXPECT_EQ(revealed["receipts"][0]["raw"]["To"], kPhone);
}

TEST(Masking, ReplacesOnlyWholeStringsEqualToTheAddress) {
  Json j = {{"a", kPhone}, {"b", {kPhone, "call " + kPhone}}, {"c", {{"d", kPhone}}}, {"n", 5}};
  mask_within(j, kPhone, "***");
  EXPECT_EQ(j, (Json{{"a", "***"}, {"b", {"***", "call " + kPhone}}, {"c", {{"d", "***"}}}, {"n", 5}}));
}

}  // namespace
}  // namespace herald::http::views

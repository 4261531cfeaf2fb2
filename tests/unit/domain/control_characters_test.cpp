// Control characters in names and text fields: refused with an error naming the field, never cut.
#include <string>

#include <gtest/gtest.h>

#include "herald/domain/json_io.hpp"
#include "herald/domain/text.hpp"

namespace herald {
namespace {

using namespace std::string_literals;

Json customer_body() {
  return Json::parse(R"({
    "name": "Ada Lovelace", "language": "en",
    "accounts": [{"account_id": "A-1001", "premise_id": "P-77",
                  "service_address": {"line1": "12 Main St", "line2": "", "city": "Springfield", "state": "IL",
                                      "zip": "62701"},
                  "timezone": "America/Chicago", "feeder": "F-12", "segments": ["low_income"]}],
    "contacts": [{"channel": "sms", "address": "+12175550101"}, {"channel": "email", "address": "ada@example.com"}]})");
}

std::string refused_field(const Result<Customer>& r) {
  EXPECT_FALSE(r);
  if (r) return "";
  EXPECT_EQ(r.error().kind, ErrorKind::invalid);
  EXPECT_EQ(r.error().code, "control_character");
  return r.error().field;
}

TEST(ControlCharacters, FoundInC0DelAndC1ButLineBreaksOnlyWhenAllowed) {
  EXPECT_FALSE(has_control_character("Ada Lovelace, Año ñ €"));
  EXPECT_TRUE(has_control_character("a\0b"s));
  EXPECT_TRUE(has_control_character("a\x1f"));
  EXPECT_TRUE(has_control_character("a\x7f"));
  EXPECT_TRUE(has_control_character("a\xc2\x9f"));
  EXPECT_FALSE(has_control_character("\xc2\xa0"));  // no-break space is text
  EXPECT_TRUE(has_control_character("a\nb"));
  EXPECT_FALSE(has_control_character("a\r\n\tb", true));
  EXPECT_TRUE(has_control_character("a\0b"s, true));
}

TEST(ControlCharacters, ANulInACustomerNameIsRefusedNotCut) {
  Json body = customer_body();
  body["name"] = "a\0b"s;
  EXPECT_EQ(refused_field(parse_customer(body, "C-1", "US")), "name");
  body["name"] = "Ada\nLovelace";  // a name is one line
  EXPECT_EQ(refused_field(parse_customer(body, "C-1", "US")), "name");
}

TEST(ControlCharacters, EveryCustomerTextFieldIsChecked) {
  const std::pair<Json::json_pointer, std::string> fields[] = {
      {Json::json_pointer("/accounts/0/account_id"), "accounts[0].account_id"},
      {Json::json_pointer("/accounts/0/premise_id"), "accounts[0].premise_id"},
      {Json::json_pointer("/accounts/0/feeder"), "accounts[0].feeder"},
      {Json::json_pointer("/accounts/0/segments/0"), "accounts[0].segments[0]"},
      {Json::json_pointer("/accounts/0/service_address/line1"), "accounts[0].service_address.line1"},
      {Json::json_pointer("/accounts/0/service_address/line2"), "accounts[0].service_address.line2"},
      {Json::json_pointer("/accounts/0/service_address/city"), "accounts[0].service_address.city"},
      {Json::json_pointer("/accounts/0/service_address/state"), "accounts[0].service_address.state"},
      {Json::json_pointer("/accounts/0/service_address/zip"), "accounts[0].service_address.zip"},
      {Json::json_pointer("/contacts/1/address"), "contacts[1].address"},
  };
  for (const auto& [pointer, field] : fields) {
    Json body = customer_body();
    body[pointer] = "x\x01y";
    EXPECT_EQ(refused_field(parse_customer(body, "C-1", "US")), field) << field;
    body[pointer] = "x\ty";
    EXPECT_EQ(refused_field(parse_customer(body, "C-1", "US")), field) << field;
  }
  EXPECT_EQ(refused_field(parse_customer(customer_body(), "C\0-1"s, "US")), "customer_id");
  EXPECT_TRUE(parse_customer(customer_body(), "C-1", "US"));
}

TEST(ControlCharacters, EventTextFieldsAreChecked) {
  Json event = {{"event_id", "e-1"}, {"type", "bill.ready"}, {"account_id", "A-1001"}, {"data", Json::object()}};
  ASSERT_TRUE(parse_event(event));
  event["account_id"] = "A-1001\0"s;
  auto r = parse_event(event);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "account_id");
  event["account_id"] = "A-1001";
  event["type"] = "bill.ready\n";
  r = parse_event(event);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "type");
}

TEST(ControlCharacters, PreferencesRefuseThemNamingTheField) {
  auto r = parse_preferences(Json{{"language", "e\0n"s}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "language");
  Json topics;
  topics["billing"]["channels"] = Json::array({"sms\0"s});
  r = parse_preferences(Json{{"topics", topics}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "topics.billing.channels[0]");
  r = parse_preferences(Json{{"quiet_hours", {{"start", "21:00\0"s}}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "quiet_hours.start");
}

}  // namespace
}  // namespace herald

// Parsing and validation of API bodies, and the JSON shapes Herald returns.
#include "herald/domain/json_io.hpp"

#include <string>

#include <gtest/gtest.h>

namespace herald {
namespace {

Json ada_body() {
  return Json::parse(R"({
    "name": "Ada Lovelace", "language": "en",
    "accounts": [{"account_id": "A-1001", "premise_id": "P-77",
                  "service_address": {"line1": "12 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
                  "timezone": "America/Chicago", "feeder": "F-12", "segments": ["low_income"]}],
    "contacts": [{"channel": "sms", "address": "+12175550101"},
                 {"channel": "email", "address": "Ada@Example.com"},
                 {"channel": "voice", "address": "(217) 555-0101"}]})");
}

void expect_error(const ApiError& e, ErrorKind kind, std::string_view field, std::string_view code) {
  EXPECT_EQ(e.kind, kind);
  EXPECT_EQ(e.field, field);
  EXPECT_EQ(e.code, code);
  EXPECT_FALSE(e.message.empty());
}

// ---- parse_json_body

TEST(ParseJsonBody, ParsesValidJson) {
  auto r = parse_json_body(R"({"a": [1, {"b": null}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["a"][1], Json({{"b", nullptr}}));
}

TEST(ParseJsonBody, MalformedTextIsInvalidJson) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "nul", "{} extra"}) {
    auto r = parse_json_body(bad);
    ASSERT_FALSE(r) << bad;
    expect_error(r.error(), ErrorKind::malformed, "", "invalid_json");
  }
}

TEST(ParseJsonBody, RejectsNestingBeyondTheLimit) {
  auto nested = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
  EXPECT_TRUE(parse_json_body(nested(32), 32));
  auto r = parse_json_body(nested(33), 32);
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorKind::malformed, "", "json_too_deep");
  EXPECT_FALSE(parse_json_body(nested(100000), 32));  // no stack overflow
  EXPECT_FALSE(parse_json_body(R"({"a":{"b":{"c":1}}})", 2));
  EXPECT_TRUE(parse_json_body(R"({"a":{"b":{"c":1}}})", 3));
}

// ---- customers

TEST(ParseCustomer, ReadsTheApiExampleAndNormalisesContacts) {
  auto r = parse_customer(ada_body(), "C-1", "US");
  ASSERT_TRUE(r) << r.error().message;
  const Customer& c = *r;
  EXPECT_EQ(c.customer_id, "C-1");
  EXPECT_EQ(c.name, "Ada Lovelace");
  ASSERT_EQ(c.accounts.size(), 1u);
  EXPECT_EQ(c.accounts[0].account_id, "A-1001");
  EXPECT_EQ(c.accounts[0].service_address.zip, "62701");
  EXPECT_EQ(c.accounts[0].timezone, "America/Chicago");
  EXPECT_EQ(c.accounts[0].segments, std::vector<std::string>{"low_income"});
  ASSERT_EQ(c.contacts.size(), 3u);
  EXPECT_EQ(c.contacts[1].address, "ada@example.com");
  EXPECT_EQ(c.contacts[2].address, "+12175550101");
  EXPECT_EQ(c.contacts[2].channel, Channel::voice);
  for (const Contact& k : c.contacts) {
    EXPECT_TRUE(k.verified);
    EXPECT_EQ(k.source, "cis");
  }
}

TEST(ParseCustomer, MissingNameIsNamed) {
  Json body = ada_body();
  body.erase("name");
  auto r = parse_customer(body, "C-1", "US");
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorKind::invalid, "name", "required");
}

TEST(ParseCustomer, UnknownTimeZoneIsNamed) {
  Json body = ada_body();
  body["accounts"][0]["timezone"] = "America/Springfield";
  auto r = parse_customer(body, "C-1", "US");
  ASSERT_FALSE(r);
  expect_error(r.error(), ErrorKind::invalid, "accounts[0].timezone", "invalid_timezone");
  body["accounts"][0].erase("timezone");
  expect_error(parse_customer(body, "C-1", "US").error(), ErrorKind::invalid, "accounts[0].timezone",
               "required");
}

TEST(ParseCustomer, BadPhoneBadEmailAndUnknownChannelAreNamed) {
  Json body = ada_body();
  body["contacts"][0]["address"] = "call me";
  expect_error(parse_customer(body, "C-1", "US").error(), ErrorKind::invalid, "contacts[0].address",
               "invalid_phone");
  body = ada_body();
  body["contacts"][1]["address"] = "ada.example.com";
  expect_error(parse_customer(body, "C-1", "US").error(), ErrorKind::invalid, "contacts[1].address",
               "invalid_email");
  body = ada_body();
  body["contacts"][2]["channel"] = "pigeon";
  expect_error(parse_customer(body, "C-1", "US").error(), ErrorKind::invalid, "contacts[2].channel",
               "unknown_channel");
}

TEST(ParseCustomer, DuplicateAccountIdsAreNamed) {
  Json body = ada_body();
  body["accounts"].push_back(body["accounts"][0]);
  expect_error(parse_customer(body, "C-1", "US").error(), ErrorKind::invalid, "accounts[1].account_id",
               "duplicate");
}

TEST(ParseCustomer, TheSameContactWrittenTwiceIsKeptOnce) {
  Json body = ada_body();
  body["contacts"].push_back({{"channel", "sms"}, {"address", "217.555.0101"}});
  auto r = parse_customer(body, "C-1", "US");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->contacts.size(), 3u);
}

TEST(ParseCustomer, WrongTypesAreNamed) {
  Json body = ada_body();
  body["accounts"][0]["segments"] = "low_income";
  expect_error(parse_customer(body, "C-1", "US").error(), ErrorKind::invalid, "accounts[0].segments",
               "invalid_type");
  body = ada_body();
  body["accounts"][0]["service_address"]["zip"] = 62701;
  expect_error(parse_customer(body, "C-1", "US").error(), ErrorKind::invalid,
               "accounts[0].service_address.zip", "invalid_type");
  expect_error(parse_customer(Json::array(), "C-1", "US").error(), ErrorKind::invalid, "", "invalid_type");
  body = ada_body();
  body["language"] = "english please";
  expect_error(parse_customer(body, "C-1", "US").error(), ErrorKind::invalid, "language",
               "invalid_language");
}

TEST(CustomerJson, RoundTripsThroughParse) {
  auto first = parse_customer(ada_body(), "C-1", "US");
  ASSERT_TRUE(first);
  Json j = to_json(*first);
  EXPECT_EQ(j["customer_id"], "C-1");
  EXPECT_EQ(j["contacts"][0]["consent"], "opted_in");
  EXPECT_EQ(j["contacts"][0]["verified"], true);
  auto second = parse_customer(j, "C-1", "US");
  ASSERT_TRUE(second);
  EXPECT_EQ(to_json(*second), j);
}

// ---- events

Json bill_event() {
  return Json::parse(R"({"event_id": "cis-8812", "type": "bill.ready", "account_id": "A-1001",
    "occurred_at": "2026-11-20T10:00:00Z",
    "data": {"amount_due": "82.17", "due_date": "2026-12-10", "bill_url": "https://example.com/b"}})");
}

TEST(ParseEvent, ReadsTheApiExample) {
  auto r = parse_event(bill_event());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->event_id, "cis-8812");
  EXPECT_EQ(r->type, "bill.ready");
  EXPECT_EQ(r->account_id, "A-1001");
  EXPECT_EQ(r->occurred_at, parse_time("2026-11-20T10:00:00Z"));
  EXPECT_EQ(r->data["amount_due"], "82.17");
}

TEST(ParseEvent, OccurredAtAndDataAreOptional) {
  Json body = bill_event();
  body.erase("occurred_at");
  body.erase("data");
  auto r = parse_event(body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->occurred_at, TimePoint{});  // unset
  EXPECT_TRUE(r->data.is_object());
  EXPECT_TRUE(to_json(*r)["occurred_at"].is_null());
}

TEST(ParseEvent, InvalidFieldsAreNamed) {
  struct Case {
    const char* key;
    Json value;
    const char* code;
  };
  const Case cases[] = {
      {"event_id", "", "required"},
      {"event_id", "has space", "invalid_event_id"},
      {"event_id", std::string(129, 'a'), "too_long"},
      {"event_id", 42, "invalid_type"},
      {"type", "", "required"},
      {"account_id", nullptr, "required"},
      {"occurred_at", "yesterday", "invalid_time"},
      {"occurred_at", "2026-11-20T10:00:00", "invalid_time"},
      {"data", Json::array(), "invalid_type"},
      {"data", "x", "invalid_type"},
  };
  for (const Case& c : cases) {
    Json body = bill_event();
    body[c.key] = c.value;
    auto r = parse_event(body);
    ASSERT_FALSE(r) << c.key << " " << c.value;
    expect_error(r.error(), ErrorKind::invalid, c.key, c.code);
  }
  Json body = bill_event();
  body.erase("account_id");
  expect_error(parse_event(body).error(), ErrorKind::invalid, "account_id", "required");
  EXPECT_TRUE(parse_event([] { Json b = bill_event(); b["event_id"] = std::string(128, 'a'); return b; }()));
  EXPECT_TRUE(parse_event([] { Json b = bill_event(); b["event_id"] = "cis:2026.11_20-x"; return b; }()));
}

TEST(EventJson, RoundTripsThroughParse) {
  auto e = parse_event(bill_event());
  ASSERT_TRUE(e);
  EXPECT_EQ(to_json(*e), bill_event());
}

TEST(EventBodyHash, IgnoresKeyOrderAndWhitespaceButNotValues) {
  Json a = Json::parse(R"({"event_id":"e1","type":"bill.ready","data":{"x":1,"y":2}})");
  Json b = Json::parse(R"({ "data": {"y": 2, "x": 1},  "type": "bill.ready", "event_id": "e1" })");
  Json c = Json::parse(R"({"event_id":"e1","type":"bill.ready","data":{"x":1,"y":3}})");
  EXPECT_EQ(event_body_hash(a), event_body_hash(b));
  EXPECT_NE(event_body_hash(a), event_body_hash(c));
  EXPECT_EQ(event_body_hash(a).size(), 64u);
}

// ---- preferences

Json prefs_body() {
  return Json::parse(R"({"topics": {"billing": {"channels": ["sms", "email"]},
                                    "outage":  {"channels": ["sms", "voice"]},
                                    "other":   {"channels": ["email"]}},
                         "quiet_hours": {"enabled": true, "start": "21:00", "end": "08:00"},
                         "language": "en",
                         "contacts": [{"channel": "sms", "address": "+12175550101"}]})");
}

TEST(ParsePreferences, ReadsTheApiShape) {
  auto r = parse_preferences(prefs_body());
  ASSERT_TRUE(r) << r.error().field;
  EXPECT_TRUE(r->wants(Topic::billing, Channel::sms));
  EXPECT_TRUE(r->wants(Topic::billing, Channel::email));
  EXPECT_FALSE(r->wants(Topic::billing, Channel::voice));
  EXPECT_TRUE(r->wants(Topic::outage, Channel::voice));
  EXPECT_TRUE(r->wants(Topic::other, Channel::email));
  EXPECT_EQ(r->quiet_hours, (QuietHours{true, LocalTime{21 * 60}, LocalTime{8 * 60}}));
  EXPECT_EQ(r->language, "en");
}

TEST(PreferencesJson, IsTheApiShapeWithoutContacts) {
  auto r = parse_preferences(prefs_body());
  ASSERT_TRUE(r);
  Json expected = prefs_body();
  expected.erase("contacts");
  EXPECT_EQ(to_json(*r), expected);
}

TEST(PreferencesJson, ListsEveryTopicEvenWithoutChannels) {
  Preferences p;
  p.topics[Topic::billing] = {Channel::voice, Channel::sms};
  Json j = to_json(p);
  EXPECT_EQ(j["topics"]["billing"]["channels"], Json({"sms", "voice"}));
  EXPECT_EQ(j["topics"]["outage"]["channels"], Json::array());
  EXPECT_EQ(j["topics"]["other"]["channels"], Json::array());
}

TEST(ParsePreferences, InvalidFieldsAreNamed) {
  struct Case {
    const char* patch;
    const char* field;
    const char* code;
  };
  const Case cases[] = {
      {R"({"topics": {"marketing": {"channels": []}}})", "topics.marketing", "unknown_topic"},
      {R"({"topics": {"billing": {"channels": ["fax"]}}})", "topics.billing.channels[0]", "unknown_channel"},
      {R"({"topics": {"billing": {"channels": ["sms", "sms"]}}})", "topics.billing.channels[1]", "duplicate"},
      {R"({"topics": {"billing": {"channels": "sms"}}})", "topics.billing.channels", "invalid_type"},
      {R"({"topics": {"billing": {}}})", "topics.billing.channels", "required"},
      {R"({"topics": {"billing": {"channels": [], "when": "always"}}})", "topics.billing.when", "unknown_field"},
      {R"({"topics": {"billing": ["sms"]}})", "topics.billing", "invalid_type"},
      {R"({"quiet_hours": {"enabled": true, "start": "25:00", "end": "08:00"}})", "quiet_hours.start", "invalid_time"},
      {R"({"quiet_hours": {"enabled": true, "start": "21:00", "end": "8am"}})", "quiet_hours.end", "invalid_time"},
      {R"({"quiet_hours": {"enabled": "yes"}})", "quiet_hours.enabled", "invalid_type"},
      {R"({"quiet_hours": {"tz": "UTC"}})", "quiet_hours.tz", "unknown_field"},
      {R"({"language": "klingon"})", "language", "invalid_language"},
      {R"({"frequency": "daily"})", "frequency", "unknown_field"},
  };
  for (const Case& c : cases) {
    auto r = parse_preferences(Json::parse(c.patch));
    ASSERT_FALSE(r) << c.patch;
    expect_error(r.error(), ErrorKind::invalid, c.field, c.code);
  }
}

TEST(ParsePreferences, AcceptsRegionalLanguageTags) {
  auto r = parse_preferences(Json::parse(R"({"language": "en-US"})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->language, "en-US");
  EXPECT_TRUE(parse_preferences(Json::parse(R"({"language": "es"})")));
}

TEST(ParsePreferences, KeepsTheBaseForAbsentKeys) {
  Preferences base;
  base.topics[Topic::outage] = {Channel::sms};
  base.language = "es";
  auto r = parse_preferences(Json::parse(R"({"quiet_hours": {"enabled": false}})"), base);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->quiet_hours.enabled);
  EXPECT_EQ(r->quiet_hours.start, LocalTime{21 * 60});
  EXPECT_TRUE(r->wants(Topic::outage, Channel::sms));
  EXPECT_EQ(r->language, "es");
  auto replaced = parse_preferences(Json::parse(R"({"topics": {"billing": {"channels": ["email"]}}})"), base);
  ASSERT_TRUE(replaced);
  EXPECT_FALSE(replaced->wants(Topic::outage, Channel::sms));  // topics are replaced as a whole
  EXPECT_TRUE(replaced->wants(Topic::billing, Channel::email));
}

// ---- errors

TEST(ApiErrorJson, NamesTheFieldOnlyWhenThereIsOne) {
  Json with = to_json(invalid("accounts[0].timezone", "invalid_timezone", "bad zone"));
  EXPECT_EQ(with, Json::parse(R"({"error": {"code": "invalid_timezone", "message": "bad zone",
                                            "field": "accounts[0].timezone"}})"));
  Json without = to_json(ApiError{ErrorKind::not_found, "not_found", "no such customer", ""});
  EXPECT_FALSE(without["error"].contains("field"));
  EXPECT_EQ(without["error"]["code"], "not_found");
}

TEST(ErrorKindNames, SayWhatWentWrongInSnakeCase) {
  EXPECT_EQ(to_string(ErrorKind::too_large), "too_large");
  EXPECT_EQ(to_string(ErrorKind::invalid), "invalid");
  EXPECT_EQ(to_string(ErrorKind::malformed), "malformed");
  EXPECT_EQ(to_string(ErrorKind::unsupported_media_type), "unsupported_media_type");
}

}  // namespace
}  // namespace herald

// Event data per type: each declared field's kind, required fields, and templates' variables.
#include "herald/rules/event_data.hpp"

#include <gtest/gtest.h>

#include "herald/rules/context.hpp"
#include "herald/source_dir.hpp"

namespace herald::rules {
namespace {

const RulesConfig& defaults() {
  static const RulesConfig cfg = default_rules_config();
  return cfg;
}

Json bill_data() { return {{"amount_due", "82.17"}, {"due_date", "2026-12-10"}, {"bill_url", "https://b.example/1"}}; }

// The field the first problem names, or "" when the data is accepted.
std::string problem(const std::string& type, const Json& data) {
  auto bad = validate_event_data(data, defaults().types.at(type));
  return bad ? bad->field : "";
}

TEST(EventData, AWellFormedBillIsAccepted) {
  EXPECT_EQ(problem("bill.ready", bill_data()), "");
  Json without_url = bill_data();
  without_url.erase("bill_url");
  EXPECT_EQ(problem("bill.ready", without_url), "");  // optional
  without_url["bill_url"] = nullptr;
  EXPECT_EQ(problem("bill.ready", without_url), "");
  Json number = bill_data();
  number["amount_due"] = 82.17;
  EXPECT_EQ(problem("bill.ready", number), "");
  number["amount_due"] = "1,234.50";
  EXPECT_EQ(problem("bill.ready", number), "");
}

TEST(EventData, AmountsACustomerCouldNotReadAreRefusedNamingTheField) {
  for (const Json& bad : {Json("abc"), Json("NaN"), Json(nullptr), Json("1e308"), Json("-5.00"), Json(1e308),
                          Json(-5), Json(""), Json("12.3.4"), Json::array(), Json(true), Json("2000000000.00")}) {
    Json data = bill_data();
    data["amount_due"] = bad;
    auto error = validate_event_data(data, defaults().types.at("bill.ready"));
    ASSERT_TRUE(error) << bad.dump();
    EXPECT_EQ(error->field, "data.amount_due") << bad.dump();
    EXPECT_EQ(error->kind, ErrorKind::invalid);
    EXPECT_NE(error->message.find("data.amount_due"), std::string::npos) << error->message;
  }
}

TEST(EventData, MissingRequiredFieldIsNamed) {
  Json data = bill_data();
  data.erase("amount_due");
  auto error = validate_event_data(data, defaults().types.at("bill.ready"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->field, "data.amount_due");
  EXPECT_EQ(error->code, "required");
  EXPECT_EQ(problem("bill.ready", Json::object()), "data.amount_due");
  EXPECT_EQ(problem("bill.ready", Json(nullptr)), "data.amount_due");
  EXPECT_EQ(problem("payment.received", {{"amount", "5.00"}}), "data.payment_date");
}

TEST(EventData, DatesAreCalendarDates) {
  for (const char* bad : {"12/10/2026", "2026-13-01", "2026-02-30", "2026-1-5", "tomorrow", "20261210"}) {
    Json data = bill_data();
    data["due_date"] = bad;
    EXPECT_EQ(problem("bill.ready", data), "data.due_date") << bad;
  }
  Json data = bill_data();
  data["due_date"] = 20261210;
  EXPECT_EQ(problem("bill.ready", data), "data.due_date");
  data["due_date"] = "2026-12-10T23:00:00Z";  // a time is read as its date in the account's zone
  EXPECT_EQ(problem("bill.ready", data), "");
}

TEST(EventData, TimesUrlsNumbersAndTextHaveTheirOwnKinds) {
  EXPECT_EQ(problem("leak.detected", {{"detected_at", "2026-11-21T04:30:00Z"}}), "");
  EXPECT_EQ(problem("leak.detected", {{"detected_at", "2026-11-21 04:30"}}), "data.detected_at");
  Json data = bill_data();
  for (const char* bad : {"javascript:alert(1)", "https://", "https://b.example/a b", "ftp://b.example/"}) {
    data["bill_url"] = bad;
    EXPECT_EQ(problem("bill.ready", data), "data.bill_url") << bad;
  }
  Json meter = {{"reading", 12345}, {"unit", "kWh"}, {"read_date", "2026-11-20"}};
  EXPECT_EQ(problem("meter.read", meter), "");
  meter["reading"] = "12345.5";
  EXPECT_EQ(problem("meter.read", meter), "");
  for (const Json& bad : {Json("1e5"), Json("inf"), Json("-3"), Json("twelve"), Json(1e300)}) {
    meter["reading"] = bad;
    EXPECT_EQ(problem("meter.read", meter), "data.reading") << bad.dump();
  }
  EXPECT_EQ(problem("card.expiring", {{"card_last4", "12345"}, {"expiry", "12/2026"}}), "data.card_last4");
}

TEST(EventData, SingleLineTextRefusesControlCharactersAndMultiLineAllowsBreaks) {
  Json declined = {{"amount", "5.00"}, {"reason", "card expired"}};
  EXPECT_EQ(problem("payment.declined", declined), "");
  for (const char* bad : {"card\nexpired", "bell\a", "esc\x1b[2J", "del\x7f"}) {
    declined["reason"] = std::string(bad);
    EXPECT_EQ(problem("payment.declined", declined), "data.reason");
  }
  declined["reason"] = std::string("card\0expired", 12);
  EXPECT_EQ(problem("payment.declined", declined), "data.reason");
  Json notice = {{"title", "Boil water"}, {"message", "Boil water before use.\nUntil further notice."}};
  EXPECT_EQ(problem("notice.broadcast", notice), "");
  notice["message"] = std::string("Boil\0water", 10);
  EXPECT_EQ(problem("notice.broadcast", notice), "data.message");
  notice["message"] = "C1 control \xc2\x85 here";
  EXPECT_EQ(problem("notice.broadcast", notice), "data.message");
}

TEST(EventData, UndeclaredFieldsAreKeptUnlessTheyHoldControlCharacters) {
  Json data = bill_data();
  data["cis_reference"] = "R-1";
  data["lines"] = {{{"text", "Water\tcharge"}}};
  EXPECT_EQ(problem("bill.ready", data), "");
  data["lines"][0]["text"] = std::string("a\0b", 3);
  EXPECT_EQ(problem("bill.ready", data), "data.lines[0].text");
}

TEST(EventData, NegativeMoneyOnlyWhereDeclaredSo) {
  EventTypeRule rule;
  rule.type = "account.credit";
  DataField balance;
  balance.kind = DataKind::money;
  balance.required = true;
  rule.data["balance"] = balance;
  EXPECT_TRUE(validate_event_data({{"balance", "-5.00"}}, rule));
  rule.data["balance"].negative = true;
  EXPECT_FALSE(validate_event_data({{"balance", "-5.00"}}, rule));
  rule.data["balance"].max = 100;
  EXPECT_EQ(validate_event_data({{"balance", "100.01"}}, rule)->field, "data.balance");
}

TEST(EventData, ChoiceAcceptsOnlyItsValues) {
  EventTypeRule rule;
  rule.type = "service.order_updated";
  DataField status;
  status.kind = DataKind::choice;
  status.required = true;
  status.choices = {"open", "closed"};
  rule.data["status"] = status;
  EXPECT_FALSE(validate_event_data({{"status", "open"}}, rule));
  auto bad = validate_event_data({{"status", "lost"}}, rule);
  ASSERT_TRUE(bad);
  EXPECT_NE(bad->message.find("open, closed"), std::string::npos) << bad->message;
}

TEST(EventData, DeclaredMoneyIsFormattedWhateverItsName) {
  RulesConfig cfg = default_rules_config();
  DataField money;
  money.kind = DataKind::money;
  cfg.types["bill.ready"].data["balance"] = money;
  Event e;
  e.type = "bill.ready";
  e.data = bill_data();
  e.data["balance"] = "1234.5";
  RecipientContext r;
  r.account.timezone = "America/Chicago";
  Json context = template_context(e, r, cfg, "en");
  EXPECT_EQ(context["data"]["balance_formatted"], "$1,234.50");
  EXPECT_EQ(context["data"]["amount_due_formatted"], "$82.17");
  EXPECT_EQ(context["data"]["due_date_formatted"], "December 10, 2026");
}

TEST(EventData, ShippedTemplatesUseOnlyDeclaredFields) {
  const TemplateStore shipped(std::filesystem::path(HERALD_SOURCE_DIR) / "config" / "templates");
  EXPECT_EQ(undeclared_template_variables(shipped, defaults()), std::vector<std::string>{});
}

TEST(EventData, ATemplateUsingAnUndeclaredVariableIsNamed) {
  TemplateStore store;
  store.add("en", "bill.ready", Channel::sms, "", "Due {{data.amount_due_formatted}} {{data.amonut}}");
  store.add("en", "bill.ready", Channel::voice, "", "{{#data}}{{bill_url}} {{late_fee}}{{/data}}");
  store.add("en", "meter.read", Channel::sms, "", "{{data.unit_formatted}}");
  auto problems = undeclared_template_variables(store, defaults());
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0], "en/bill.ready.sms: data.amonut is not a declared field of bill.ready");
  EXPECT_EQ(problems[1], "en/bill.ready.voice: data.late_fee is not a declared field of bill.ready");
  EXPECT_NE(problems[2].find("en/meter.read.sms: data.unit_formatted"), std::string::npos) << problems[2];
}

}  // namespace
}  // namespace herald::rules

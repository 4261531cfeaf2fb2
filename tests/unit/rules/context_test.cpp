// The template context: formatted money, dates and times, masked account ids.
#include "herald/rules/context.hpp"

#include <gtest/gtest.h>

namespace herald::rules {
namespace {

TEST(FormatMoney, TwoDecimalsWithThousandsSeparators) {
  EXPECT_EQ(format_money("82.17"), "$82.17");
  EXPECT_EQ(format_money(82.17), "$82.17");
  EXPECT_EQ(format_money(1234.5), "$1,234.50");
  EXPECT_EQ(format_money("1234567"), "$1,234,567.00");
  EXPECT_EQ(format_money(40), "$40.00");
  EXPECT_EQ(format_money("-5"), "-$5.00");
  EXPECT_EQ(format_money("0.005"), "$0.01");
  EXPECT_EQ(format_money("$1,020.3"), "$1,020.30");
}

TEST(FormatMoney, RejectsWhatIsNotAnAmount) {
  EXPECT_FALSE(format_money("abc"));
  EXPECT_FALSE(format_money("12.3.4"));
  EXPECT_FALSE(format_money("."));
  EXPECT_FALSE(format_money(""));
  EXPECT_FALSE(format_money(Json::array()));
  EXPECT_FALSE(format_money(true));
}

TEST(FormatLongDate, EnglishAndSpanishMonthNames) {
  EXPECT_EQ(format_long_date("2026-12-10", "America/Chicago", "en"), "December 10, 2026");
  EXPECT_EQ(format_long_date("2026-12-10", "America/Chicago", "es"), "10 de diciembre de 2026");
  EXPECT_EQ(format_long_date("2026-01-02", "America/Chicago", "es-MX"), "2 de enero de 2026");
  EXPECT_EQ(format_long_date("2026-01-02", "America/Chicago", "fr"), "January 2, 2026");
  EXPECT_FALSE(format_long_date("2026-13-01", "America/Chicago", "en"));
  EXPECT_FALSE(format_long_date("soon", "America/Chicago", "en"));
}

TEST(FormatLongDate, ReadsATimestampInTheAccountsZone) {
  // 03:00Z on Dec 11 is still Dec 10 in Chicago.
  EXPECT_EQ(format_long_date("2026-12-11T03:00:00Z", "America/Chicago", "en"), "December 10, 2026");
}

TEST(FormatLongTime, LocalClockTimePerLanguage) {
  EXPECT_EQ(format_long_time("2026-12-10T21:30:00Z", "America/Chicago", "en"), "December 10, 2026 at 3:30 PM CST");
  EXPECT_EQ(format_long_time("2026-12-10T21:30:00Z", "America/Chicago", "es"), "10 de diciembre de 2026 a las 15:30");
  EXPECT_EQ(format_long_time("2026-07-10T05:05:00Z", "America/Chicago", "en"), "July 10, 2026 at 12:05 AM CDT");
}

RecipientContext ada() {
  RecipientContext r;
  r.customer.customer_id = "C-1";
  r.customer.name = "Ada Lovelace";
  r.account.account_id = "A-1001";
  r.account.timezone = "America/Chicago";
  r.account.service_address = {"12 Main St", "", "Springfield", "IL", "62701"};
  return r;
}

TEST(TemplateContext, HoldsRecipientAccountUtilityAndFormattedData) {
  Event e;
  e.event_id = "cis-8812";
  e.type = "bill.ready";
  e.data = {{"amount_due", "82.17"}, {"due_date", "2026-12-10"}, {"payment_amount", 10},
            {"past_due", "5"}, {"read_at", "2026-12-10T21:30:00Z"}, {"note", "kept"}, {"bad_date", "later"}};
  RulesConfig cfg;
  cfg.utility_name = "City Water";
  cfg.utility_phone = "+1 800 555 0100";
  cfg.utility_url = "https://water.example.com";
  Json ctx = template_context(e, ada(), cfg, "es");
  EXPECT_EQ(ctx["customer"]["first_name"], "Ada");
  EXPECT_EQ(ctx["customer"]["name"], "Ada Lovelace");
  EXPECT_EQ(ctx["account"]["id"], "A-1001");
  EXPECT_EQ(ctx["account"]["id_masked"], "****1001");
  EXPECT_EQ(ctx["account"]["last4"], "1001");
  EXPECT_EQ(ctx["account"]["service_address"]["one_line"], "12 Main St, Springfield, IL 62701");
  EXPECT_EQ(ctx["data"]["amount_due"], "82.17");
  EXPECT_EQ(ctx["data"]["amount_due_formatted"], "$82.17");
  EXPECT_EQ(ctx["data"]["payment_amount_formatted"], "$10.00");
  EXPECT_EQ(ctx["data"]["past_due_formatted"], "$5.00");
  EXPECT_EQ(ctx["data"]["due_date_formatted"], "10 de diciembre de 2026");
  EXPECT_EQ(ctx["data"]["read_at_formatted"], "10 de diciembre de 2026 a las 15:30");
  EXPECT_EQ(ctx["data"]["note"], "kept");
  EXPECT_FALSE(ctx["data"].contains("note_formatted"));
  EXPECT_FALSE(ctx["data"].contains("bad_date_formatted"));
  EXPECT_EQ(ctx["utility"]["name"], "City Water");
  EXPECT_EQ(ctx["event"]["id"], "cis-8812");
  EXPECT_EQ(ctx["language"], "es");
}

TEST(TemplateContext, ShortAccountIdsAreNotMasked) {
  RecipientContext r = ada();
  r.account.account_id = "A1";
  Json ctx = template_context(Event{}, r, RulesConfig{}, "en");
  EXPECT_EQ(ctx["account"]["id_masked"], "A1");
  EXPECT_TRUE(ctx["data"].is_object());
}

}  // namespace
}  // namespace herald::rules

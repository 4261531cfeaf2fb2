// CSV quoting for report downloads.
#include "herald/http/csv.hpp"

#include <gtest/gtest.h>

using namespace herald::http;

TEST(Csv, PlainFieldsAreUnquoted) { EXPECT_EQ(csv_field("bill.ready"), "bill.ready"); }

TEST(Csv, QuotesCommasQuotesAndNewlines) {
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(Csv, NeutralisesFormulasButKeepsNegativeNumbers) {
  EXPECT_EQ(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  EXPECT_EQ(csv_field("@cmd"), "'@cmd");
  EXPECT_EQ(csv_field("-3"), "-3");
  EXPECT_EQ(csv_field("-3.5"), "-3.5");
}

TEST(Csv, WritesHeaderThenRowsWithCrlf) {
  auto text = to_csv({"bucket", "channel", "count"}, {{"2026-11-20T00:00:00Z", "sms", "12"}, {"2026-11-21T00:00:00Z", "email", "3"}});
  EXPECT_EQ(text, "bucket,channel,count\r\n2026-11-20T00:00:00Z,sms,12\r\n2026-11-21T00:00:00Z,email,3\r\n");
}

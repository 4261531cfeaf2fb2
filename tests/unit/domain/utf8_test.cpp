// valid_utf8 and reject_bad_text: what a percent-decoded query parameter must be.
#include <string>

#include <gtest/gtest.h>

#include "herald/domain/text.hpp"

namespace herald {
namespace {

TEST(Utf8, AcceptsWellFormedTextOfEveryLength) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("Ada Lovelace"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9"));              // 2 bytes
  EXPECT_TRUE(valid_utf8("\xe2\x82\xac 5"));            // 3 bytes (euro sign)
  EXPECT_TRUE(valid_utf8("\xf0\x9f\x92\xa1"));          // 4 bytes (U+1F4A1)
  EXPECT_TRUE(valid_utf8("\xf4\x8f\xbf\xbf"));          // U+10FFFF, the last code point
}

TEST(Utf8, RefusesWhatPostgresWouldRefuse) {
  EXPECT_FALSE(valid_utf8("\xff\xfe"));                 // never a lead byte
  EXPECT_FALSE(valid_utf8("\x80"));                     // a continuation byte alone
  EXPECT_FALSE(valid_utf8("caf\xc3"));                  // cut short
  EXPECT_FALSE(valid_utf8("\xe2\x82"));                 // cut short
  EXPECT_FALSE(valid_utf8("\xc3\x28"));                 // bad continuation
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));                 // overlong "/"
  EXPECT_FALSE(valid_utf8("\xe0\x80\xaf"));             // overlong "/"
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));             // a UTF-16 surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));         // beyond U+10FFFF
}

TEST(Utf8, RejectBadTextNamesTheFieldForBadBytesAndControlCharacters) {
  EXPECT_FALSE(reject_bad_text("Ada", "q"));
  auto bad = reject_bad_text("\xff", "q");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->field, "q");
  EXPECT_EQ(bad->code, "invalid_text");
  auto nul = reject_bad_text(std::string("a\0b", 3), "customer_id");
  ASSERT_TRUE(nul);
  EXPECT_EQ(nul->field, "customer_id");
}

TEST(Utf8, RejectUnstorableTextLetsLineBreaksThroughButNotBadBytesOrNul) {
  EXPECT_FALSE(reject_unstorable_text("Still out?\nReply OUT", "text"));
  EXPECT_FALSE(reject_unstorable_text("S\xc3\xad", "text"));
  auto bad = reject_unstorable_text("\xe9stop", "text");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->field, "text");
  EXPECT_EQ(bad->code, "invalid_text");
  EXPECT_TRUE(reject_unstorable_text(std::string("a\0b", 3), "Body"));
}

}  // namespace
}  // namespace herald

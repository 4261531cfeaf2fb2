// Page cursors: what one page hands out the next one reads back, and nothing else.
#include "herald/http/views/cursor.hpp"

#include <gtest/gtest.h>

#include "herald/domain/signed_token.hpp"

namespace herald::http::views {
namespace {

TEST(Cursor, RoundTripsEveryPosition) {
  for (std::int64_t position : {std::int64_t{1}, std::int64_t{42}, std::int64_t{1'000'000'007},
                                std::numeric_limits<std::int64_t>::max()}) {
    const auto cursor = encode_cursor(position);
    EXPECT_EQ(decode_cursor(cursor), position) << cursor;
  }
}

TEST(Cursor, IsOpaqueUrlSafeText) {
  const auto cursor = encode_cursor(123456789);
  EXPECT_EQ(cursor.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(cursor.find("123456789"), std::string::npos);
}

TEST(Cursor, RejectsGarbage) {
  for (const std::string bad : {"", "!!!", "%%", "a b", "bm90LWEtbnVtYmVy" /* "not-a-number" */}) {
    EXPECT_FALSE(decode_cursor(bad)) << bad;
  }
}

TEST(Cursor, RejectsPositionsNeverIssued) {
  EXPECT_FALSE(decode_cursor(base64url_encode("0")));
  EXPECT_FALSE(decode_cursor(base64url_encode("-1")));
  EXPECT_FALSE(decode_cursor(base64url_encode("12x")));
  EXPECT_FALSE(decode_cursor(base64url_encode(" 12")));
  EXPECT_FALSE(decode_cursor(base64url_encode("+12")));
  EXPECT_FALSE(decode_cursor(base64url_encode("0012")));  // another spelling of 12
  EXPECT_FALSE(decode_cursor(base64url_encode("9223372036854775808")));  // past int64
  EXPECT_FALSE(decode_cursor(base64url_encode(std::string(40, '9'))));
}

TEST(Cursor, RejectsATamperedCursor) {
  const auto cursor = encode_cursor(4711);
  ASSERT_TRUE(decode_cursor(cursor));
  EXPECT_FALSE(decode_cursor(cursor + "A"));
  EXPECT_FALSE(decode_cursor(cursor + "="));
  EXPECT_FALSE(decode_cursor(cursor.substr(0, cursor.size() - 1)));
  std::string flipped = cursor;
  flipped[0] = flipped[0] == 'z' ? 'y' : 'z';  // the first digit's bits no longer spell a digit
  EXPECT_FALSE(decode_cursor(flipped)) << flipped;
}

}  // namespace
}  // namespace herald::http::views

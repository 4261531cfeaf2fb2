// Contact verification codes: six digits, every code reachable, hashes bound to secret and address.
#include "herald/domain/verification_code.hpp"

#include <set>

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(VerificationCode, IsSixDigitsAndVaries) {
  std::set<std::string> seen;
  bool leading_zero = false;
  for (int i = 0; i < 2000; ++i) {
    const auto code = random_verification_code();
    ASSERT_TRUE(is_verification_code(code)) << code;
    leading_zero = leading_zero || code[0] == '0';
    seen.insert(code);
  }
  EXPECT_GT(seen.size(), 1990u);  // 2000 draws from a million: a handful of repeats at most
  EXPECT_TRUE(leading_zero);      // about one in ten starts with 0: codes are padded, not shortened
}

TEST(VerificationCode, OnlySixAsciiDigitsLookLikeACode) {
  EXPECT_TRUE(is_verification_code("012345"));
  for (const char* bad : {"", "12345", "1234567", "12a456", " 12345", "１２３４５６"})
    EXPECT_FALSE(is_verification_code(bad)) << bad;
}

TEST(VerificationCode, TheHashDependsOnSecretChannelAddressAndCode) {
  const auto h = verification_code_hash("s1", Channel::sms, "+12175550199", "123456");
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h.find("123456"), std::string::npos);
  EXPECT_EQ(h, verification_code_hash("s1", Channel::sms, "+12175550199", "123456"));
  EXPECT_NE(h, verification_code_hash("s2", Channel::sms, "+12175550199", "123456"));
  EXPECT_NE(h, verification_code_hash("s1", Channel::voice, "+12175550199", "123456"));
  EXPECT_NE(h, verification_code_hash("s1", Channel::sms, "+12175550198", "123456"));
  EXPECT_NE(h, verification_code_hash("s1", Channel::sms, "+12175550199", "123457"));
  EXPECT_TRUE(same_hash(h, verification_code_hash("s1", Channel::sms, "+12175550199", "123456")));
  EXPECT_FALSE(same_hash(h, h.substr(1)));
}

}  // namespace
}  // namespace herald

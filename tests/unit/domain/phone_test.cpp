// Phone normalisation to E.164, email normalisation and masking for logs.
#include "herald/domain/phone.hpp"

#include <gtest/gtest.h>

namespace herald {
namespace {

TEST(ToE164, NormalisesUsNumbersInAnyCommonFormat) {
  EXPECT_EQ(to_e164("+1 (217) 555-0101", "US"), "+12175550101");
  EXPECT_EQ(to_e164("217-555-0101", "US"), "+12175550101");
  EXPECT_EQ(to_e164("(217) 555 0101", "us"), "+12175550101");
  EXPECT_EQ(to_e164("  2175550101 ", "US"), "+12175550101");
}

TEST(ToE164, UsesTheDefaultRegionOnlyForNationalNumbers) {
  EXPECT_EQ(to_e164("030 123456", "DE"), "+4930123456");
  EXPECT_EQ(to_e164("+44 20 7946 0958", "US"), "+442079460958");
}

TEST(ToE164, RejectsWhatIsNotAPossibleNumber) {
  EXPECT_FALSE(to_e164("", "US"));
  EXPECT_FALSE(to_e164("hello", "US"));
  EXPECT_FALSE(to_e164("12", "US"));
  EXPECT_FALSE(to_e164("+1 217 555 0101 9999 9999", "US"));
}

TEST(NormalizeEmail, LowerCasesAndTrims) {
  EXPECT_EQ(normalize_email("Ada@Example.COM"), "ada@example.com");
  EXPECT_EQ(normalize_email(" ada.l+bills@example.co.uk "), "ada.l+bills@example.co.uk");
}

TEST(NormalizeEmail, RejectsImplausibleAddresses) {
  for (const char* bad : {"", "ada", "ada@", "@example.com", "ada@example", "a@b@example.com",
                          "ada lovelace@example.com", "ada@.example.com", "ada@example.com.", "ada@exa..mple.com"}) {
    EXPECT_FALSE(normalize_email(bad)) << bad;
  }
}

TEST(MaskAddress, KeepsCountryAndAreaCodeAndLastTwoDigitsOfPhones) {
  EXPECT_EQ(mask_address("+12175550101"), "+1217*****01");
}

TEST(MaskAddress, KeepsFirstLetterAndDomainOfEmails) {
  EXPECT_EQ(mask_address("ada@example.com"), "a**@example.com");
  EXPECT_EQ(mask_address("x@example.com"), "x@example.com");
}

TEST(MaskAddress, ShortValuesRevealAtMostTwoCharacters) {
  EXPECT_EQ(mask_address("12345"), "***45");
  EXPECT_EQ(mask_address("1"), "1");
}

}  // namespace
}  // namespace herald

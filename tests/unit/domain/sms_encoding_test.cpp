// SMS encoding detection and segment counts.
#include "herald/domain/sms_encoding.hpp"

#include <string>

#include <gtest/gtest.h>

namespace herald {
namespace {

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(SmsEncoding, PlainAsciiIsGsm7OneSeptetPerCharacter) {
  auto info = sms_encoding("Your bill of $82.17 is ready. Reply STOP to opt out.");
  EXPECT_EQ(info.encoding, "GSM-7");
  EXPECT_EQ(info.units, 52);
  EXPECT_EQ(info.segments, 1);
}

TEST(SmsEncoding, EmptyBodyIsOneSegment) {
  auto info = sms_encoding("");
  EXPECT_EQ(info.encoding, "GSM-7");
  EXPECT_EQ(info.units, 0);
  EXPECT_EQ(info.segments, 1);
}

TEST(SmsEncoding, GsmAccentedLettersStayGsm7) {
  auto info = sms_encoding("Señor Müller: ¿paga? à è é ù ì ò Ç Ø å Æ ß É ¡ § £ ¥ Δ Ω");
  EXPECT_EQ(info.encoding, "GSM-7");
  // Spanish acute vowels other than é are not in GSM 03.38.
  EXPECT_EQ(sms_encoding("¿pagó?").encoding, "UCS-2");
  EXPECT_EQ(sms_encoding("día").encoding, "UCS-2");
}

TEST(SmsEncoding, ExtensionCharactersCountTwoSeptets) {
  auto info = sms_encoding("€5 [x] {y} ~|\\^");
  EXPECT_EQ(info.encoding, "GSM-7");
  EXPECT_EQ(info.units, 15 + 9);  // 15 characters, 9 of them from the extension table
}

TEST(SmsEncoding, ExactlyOneHundredSixtySeptetsIsOneSegment) {
  EXPECT_EQ(sms_encoding(std::string(160, 'a')).segments, 1);
  auto info = sms_encoding(std::string(161, 'a'));
  EXPECT_EQ(info.units, 161);
  EXPECT_EQ(info.segments, 2);
  EXPECT_EQ(sms_encoding(std::string(306, 'a')).segments, 2);
  EXPECT_EQ(sms_encoding(std::string(307, 'a')).segments, 3);
}

TEST(SmsEncoding, EuroSignsPushPastTheSingleSegmentLimit) {
  EXPECT_EQ(sms_encoding(repeat("€", 80)).segments, 1);  // 160 septets
  auto info = sms_encoding(repeat("€", 80) + "a");          // 161
  EXPECT_EQ(info.units, 161);
  EXPECT_EQ(info.segments, 2);
}

TEST(SmsEncoding, EscapePairIsNeverSplitAcrossSegments) {
  // 152 septets then a euro sign: it cannot straddle the 153-septet boundary.
  auto info = sms_encoding(std::string(152, 'a') + "€" + std::string(152, 'a'));
  EXPECT_EQ(info.units, 306);
  EXPECT_EQ(info.segments, 3);
}

TEST(SmsEncoding, NonGsmCharacterSwitchesToUcs2) {
  auto info = sms_encoding("Factura lista ✓");
  EXPECT_EQ(info.encoding, "UCS-2");
  EXPECT_EQ(info.units, 15);
  EXPECT_EQ(sms_encoding("`").encoding, "UCS-2");  // the backtick has no GSM code
}

TEST(SmsEncoding, EmojiIsASurrogatePairOfTwoUnits) {
  auto info = sms_encoding("Leak! 💧");
  EXPECT_EQ(info.encoding, "UCS-2");
  EXPECT_EQ(info.units, 8);
  EXPECT_EQ(info.segments, 1);
}

TEST(SmsEncoding, Ucs2BoundariesAreSeventyAndSixtySeven) {
  std::string seventy = "✓" + std::string(69, 'a');
  EXPECT_EQ(sms_encoding(seventy).units, 70);
  EXPECT_EQ(sms_encoding(seventy).segments, 1);
  EXPECT_EQ(sms_encoding(seventy + "a").segments, 2);
  EXPECT_EQ(sms_encoding("✓" + std::string(133, 'a')).segments, 2);  // 134 = 2 * 67
  EXPECT_EQ(sms_encoding("✓" + std::string(134, 'a')).segments, 3);
  // 35 emoji = 70 units: one segment; 36 = 72 units: two.
  EXPECT_EQ(sms_encoding(repeat("💧", 35)).segments, 1);
  EXPECT_EQ(sms_encoding(repeat("💧", 36)).segments, 2);
}

TEST(SmsEncoding, InvalidUtf8CountsAsReplacementCharacters) {
  auto info = sms_encoding(std::string("ok \xff\xfe"));
  EXPECT_EQ(info.encoding, "UCS-2");
  EXPECT_EQ(info.units, 5);
}

}  // namespace
}  // namespace herald

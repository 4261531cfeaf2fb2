// Signed expiring tokens, random tokens, SHA-256 and base64url.
#include "herald/domain/signed_token.hpp"

#include <set>
#include <stdexcept>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace herald {
namespace {

const TimePoint kNow = from_unix_seconds(1'790'000'000);

TEST(SignedToken, VerifiesAndReturnsTheClaimsBeforeExpiry) {
  Json claims = {{"sub", "C-1"}, {"role", "customer"}, {"exp", to_unix_seconds(kNow) + 60}};
  std::string token = sign_token(claims, "s3cret");
  auto verified = verify_token(token, "s3cret", kNow);
  ASSERT_TRUE(verified);
  EXPECT_EQ(*verified, claims);
  EXPECT_EQ(token.find('='), std::string::npos);
  EXPECT_EQ(token.find('+'), std::string::npos);
  EXPECT_EQ(token.find('/'), std::string::npos);
}

TEST(SignedToken, ExpiresAtExp) {
  std::string token = sign_token({{"exp", to_unix_seconds(kNow) + 60}}, "k");
  EXPECT_TRUE(verify_token(token, "k", kNow + Seconds(59)));
  EXPECT_FALSE(verify_token(token, "k", kNow + Seconds(60)));
  EXPECT_FALSE(verify_token(token, "k", kNow + Seconds(3600)));
}

TEST(SignedToken, RejectsAnotherSecret) {
  std::string token = sign_token({{"exp", to_unix_seconds(kNow) + 60}}, "k1");
  EXPECT_FALSE(verify_token(token, "k2", kNow));
}

TEST(SignedToken, RejectsATamperedPayload) {
  std::string token = sign_token({{"sub", "C-1"}, {"exp", to_unix_seconds(kNow) + 60}}, "k");
  std::string forged_payload = base64url_encode(Json({{"sub", "C-2"}, {"exp", to_unix_seconds(kNow) + 60}}).dump());
  std::string forged = forged_payload + token.substr(token.find('.'));
  EXPECT_FALSE(verify_token(forged, "k", kNow));
  std::string flipped = token;
  flipped[token.size() - 2] = flipped[token.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verify_token(flipped, "k", kNow));
}

TEST(SignedToken, RejectsMalformedTokens) {
  for (const char* bad : {"", ".", "abc", "abc.def.ghi", "!!!.???", "e30.", ".e30"}) {
    EXPECT_FALSE(verify_token(bad, "k", kNow)) << bad;
  }
}

// Signs a payload the way sign_token does, but without its checks on the claims.
std::string sign_raw(const std::string& payload_json, std::string_view secret) {
  std::string payload = base64url_encode(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &len);
  return payload + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), len));
}

TEST(SignedToken, RejectsCorrectlySignedClaimsWithoutAnIntegerExp) {
  ASSERT_TRUE(verify_token(sign_raw(R"({"exp":1790000060})", "k"), "k", kNow));  // the helper is faithful
  EXPECT_FALSE(verify_token(sign_raw(R"({"sub":"C-1"})", "k"), "k", kNow));
  EXPECT_FALSE(verify_token(sign_raw(R"({"exp":"1790000060"})", "k"), "k", kNow));
  EXPECT_FALSE(verify_token(sign_raw(R"([1,2])", "k"), "k", kNow));
  EXPECT_FALSE(verify_token(sign_raw(R"(not json)", "k"), "k", kNow));
}

TEST(SignedToken, SigningRefusesClaimsWithoutAnIntegerExp) {
  EXPECT_THROW(sign_token({{"sub", "x"}}, "k"), std::invalid_argument);
  EXPECT_THROW(sign_token({{"exp", "tomorrow"}}, "k"), std::invalid_argument);
}

TEST(RandomToken, IsUrlSafeOfTheExpectedLengthAndDiffers) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string t = random_token(32);
    EXPECT_EQ(t.size(), 43u);  // 32 bytes -> 43 base64url characters, no padding
    EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 50u);
}

TEST(Sha256Hex, MatchesKnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Base64Url, RoundTripsEveryLengthAndRejectsForeignCharacters) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes);
    bytes += static_cast<char>(i * 37 + 250);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("TWFu"), "Man");
  EXPECT_EQ(base64url_decode("TWE="), "Ma");
  EXPECT_FALSE(base64url_decode("TW+u"));
  EXPECT_FALSE(base64url_decode("T"));
}

}  // namespace
}  // namespace herald

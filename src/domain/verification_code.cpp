// Contact verification codes: random digits and their keyed hash.
#include "herald/domain/verification_code.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace herald {

std::string random_verification_code() {
  // Rejection sampling: values at or above the largest multiple of 1,000,000 below 2^32 are
  // drawn again, so that no code is likelier than another.
  constexpr std::uint32_t kCodes = 1000000;
  constexpr std::uint32_t kLimit = UINT32_MAX - UINT32_MAX % kCodes;
  for (;;) {
    std::uint32_t value = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value) != 1)
      throw std::runtime_error("RAND_bytes failed");
    if (value >= kLimit) continue;
    std::string code = std::to_string(value % kCodes);
    return std::string(6 - code.size(), '0') + code;
  }
}

bool is_verification_code(std::string_view code) {
  if (code.size() != 6) return false;
  for (char c : code)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string verification_code_hash(std::string_view secret, Channel channel, std::string_view address,
                                   std::string_view code) {
  std::string message = std::string(to_string(channel)) + '\n' + std::string(address) + '\n' + std::string(code);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &length))
    throw std::runtime_error("HMAC failed");
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

bool same_hash(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace herald

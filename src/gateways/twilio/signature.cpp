// X-Twilio-Signature: HMAC-SHA1 over the URL and the sorted POST parameters.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "herald/gateways/twilio.hpp"

namespace herald::gateways {

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const FormParams& params) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params) sorted.push_back(&p);
  // Byte order of names, then values for repeated names, as Twilio's own validators do.
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });

  std::string data(url);
  for (const auto* p : sorted) {
    data += p->first;
    data += p->second;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &digest_len);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), digest_len));
}

bool verify_twilio_signature(std::string_view auth_token, std::string_view url,
                             const FormParams& params, std::string_view header_value) {
  const std::string expected = twilio_signature(auth_token, url, params);
  if (header_value.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), header_value.data(), expected.size()) == 0;
}

}  // namespace herald::gateways

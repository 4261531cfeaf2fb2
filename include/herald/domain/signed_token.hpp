// HMAC-SHA256 signed, expiring tokens (customer portal, one-click unsubscribe) and hashing helpers.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"

namespace herald {

// "base64url(claims JSON).base64url(HMAC-SHA256(secret, first part))", no padding.
// claims must be an object holding "exp" (unix seconds, integer); otherwise throws
// std::invalid_argument (a programming error, not an input error).
std::string sign_token(const Json& claims, std::string_view secret);

// The claims when the token is well formed, its MAC matches (constant-time compare) and
// now < exp; nullopt otherwise. Never throws on any input.
std::optional<Json> verify_token(std::string_view token, std::string_view secret, TimePoint now);

// `bytes` random bytes from the OpenSSL CSPRNG, base64url without padding (API keys, nonces).
std::string random_token(std::size_t bytes);

// Lower-case hex SHA-256 (API key hashes, idempotency hashes).
std::string sha256_hex(std::string_view data);

std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);  // nullopt on bad input

}  // namespace herald

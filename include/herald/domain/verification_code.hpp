// Contact verification codes: six random digits, kept only as a keyed hash.
#pragma once

#include <string>
#include <string_view>

#include "herald/domain/types.hpp"

namespace herald {

// Six decimal digits from the OpenSSL CSPRNG, each of the 1,000,000 codes equally likely.
std::string random_verification_code();

// Whether `code` looks like a code at all: exactly six ASCII digits.
bool is_verification_code(std::string_view code);

// The stored form of a code: hex HMAC-SHA256 under the deployment's token secret of the
// channel, the address and the code, so a copy of the table does not give the codes away
// (a plain hash of six digits is undone by trying all of them) and a code sent to one address
// does not verify another.
std::string verification_code_hash(std::string_view secret, Channel channel, std::string_view address,
                                   std::string_view code);

// Equal strings, compared in time that does not depend on where they differ.
bool same_hash(std::string_view a, std::string_view b);

}  // namespace herald

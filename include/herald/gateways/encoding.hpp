// Wire encodings the provider codecs share: base64, application/x-www-form-urlencoded,
// HTTP Retry-After. Pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "herald/domain/types.hpp"

namespace herald::gateways {

using FormParams = std::vector<std::pair<std::string, std::string>>;

std::string base64_encode(std::string_view bytes);

// name=value&... with every byte but A-Z a-z 0-9 - . _ ~ percent-encoded, space as '+'.
std::string form_urlencode(const FormParams& params);

// Parses an application/x-www-form-urlencoded body ('+' is a space, %XX a byte) into its
// pairs, in order. A malformed escape is kept literally rather than rejected: providers'
// bodies are then still verifiable by signature.
FormParams parse_form(std::string_view body);

// Retry-After: delay-seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT",
// made relative to now, never negative). nullopt when unparsable.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, TimePoint now);

}  // namespace herald::gateways

// Phone numbers to E.164 (libphonenumber) and contact masking for logs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herald {

// "+1 (217) 555-0101", "217-555-0101" (with region "US") -> "+12175550101"; nullopt when
// libphonenumber cannot parse it or it is not a possible number.
std::optional<std::string> to_e164(std::string_view input, std::string_view default_region);

// A plausible email address: one '@', a dot in the domain, no spaces. Returns it lower-cased.
std::optional<std::string> normalize_email(std::string_view input);

// "+12175550101" -> "+1217*****01"; "ada@example.com" -> "a**@example.com". For logs.
std::string mask_address(std::string_view address);

}  // namespace herald

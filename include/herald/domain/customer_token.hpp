// Customer portal tokens: signed, expiring, naming one customer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"

namespace herald {

// Claims {"sub": customer_id, "role": "customer", "exp": unix seconds}, signed with secret.
std::string issue_customer_token(std::string_view secret, std::string_view customer_id, TimePoint expires_at);
// The customer named by already verified claims of role "customer"; nullopt for any other claims.
std::optional<std::string> customer_of_claims(const Json& claims);
// The customer a valid, unexpired customer token names; nullopt otherwise.
std::optional<std::string> customer_of_token(std::string_view token, std::string_view secret, TimePoint now);

}  // namespace herald

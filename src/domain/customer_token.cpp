// Customer portal tokens on top of the generic signed token.
#include "herald/domain/customer_token.hpp"

#include "herald/domain/signed_token.hpp"

namespace herald {

std::string issue_customer_token(std::string_view secret, std::string_view customer_id, TimePoint expires_at) {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>(expires_at.time_since_epoch()).count();
  return sign_token({{"sub", std::string(customer_id)}, {"role", "customer"}, {"exp", exp}}, secret);
}

std::optional<std::string> customer_of_claims(const Json& claims) {
  if (!claims.is_object() || claims.value("role", "") != "customer") return std::nullopt;
  const auto it = claims.find("sub");
  if (it == claims.end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<std::string> customer_of_token(std::string_view token, std::string_view secret, TimePoint now) {
  const auto claims = verify_token(token, secret, now);
  return claims ? customer_of_claims(*claims) : std::nullopt;
}

}  // namespace herald

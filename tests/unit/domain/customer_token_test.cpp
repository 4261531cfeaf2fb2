// Customer portal tokens: issued, verified, and refused when forged, expired or of another role.
#include "herald/domain/customer_token.hpp"

#include <gtest/gtest.h>

#include "herald/domain/signed_token.hpp"

namespace herald {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1'800'000'000));

TEST(CustomerToken, IssuedTokenNamesItsCustomerUntilItExpires) {
  const auto token = issue_customer_token("secret", "c-42", kNow + std::chrono::hours(1));
  EXPECT_EQ(customer_of_token(token, "secret", kNow), "c-42");
  EXPECT_FALSE(customer_of_token(token, "secret", kNow + std::chrono::hours(2)));
  EXPECT_FALSE(customer_of_token(token, "other-secret", kNow));
}

TEST(CustomerToken, SignedClaimsOfAnotherRoleNameNoCustomer) {
  const auto exp = std::chrono::duration_cast<std::chrono::seconds>((kNow + std::chrono::hours(1)).time_since_epoch()).count();
  const auto unsubscribe = sign_token({{"c", 7}, {"t", "billing"}, {"exp", exp}}, "secret");
  EXPECT_FALSE(customer_of_token(unsubscribe, "secret", kNow));
  EXPECT_FALSE(customer_of_claims({{"sub", "c1"}, {"exp", exp}}));
  EXPECT_FALSE(customer_of_claims({{"sub", ""}, {"role", "customer"}}));
  EXPECT_EQ(customer_of_claims({{"sub", "c1"}, {"role", "customer"}}), "c1");
}

}  // namespace
}  // namespace herald

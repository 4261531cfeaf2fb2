// Bearer parsing, access rules per role, and the API key cache.
#include "herald/http/auth.hpp"

#include <gtest/gtest.h>

using namespace herald::http;
using herald::ErrorKind;

TEST(BearerToken, ParsesSchemeCaseInsensitively) {
  EXPECT_EQ(bearer_token(std::string("Bearer abc.def")).value_or(""), "abc.def");
  EXPECT_EQ(bearer_token(std::string("bearer  abc ")).value_or(""), "abc");
}

TEST(BearerToken, RejectsMissingOtherSchemesAndEmptyTokens) {
  EXPECT_FALSE(bearer_token(std::nullopt));
  EXPECT_FALSE(bearer_token(std::string("Basic YWxhZGRpbjpvcGVu")));
  EXPECT_FALSE(bearer_token(std::string("Bearer")));
  EXPECT_FALSE(bearer_token(std::string("Bearer ")));
  EXPECT_FALSE(bearer_token(std::string("Bearerabc")));
  EXPECT_FALSE(bearer_token(std::string("Bearer a b")));
}

namespace {
Principal key(Role r) { return Principal{r, "k", ""}; }
Principal customer(std::string id) { return Principal{Role::customer, "", std::move(id)}; }
}  // namespace

TEST(Authorize, NoCredentialsIsUnauthorizedExceptOnOpenRoutes) {
  EXPECT_FALSE(authorize(Access::open, std::nullopt, ""));
  auto e = authorize(Access::cis_or_admin, std::nullopt, "");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ErrorKind::unauthenticated);
}

TEST(Authorize, CisKeyOnAdminRouteIsForbidden) {
  auto e = authorize(Access::admin, key(Role::cis), "");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ErrorKind::forbidden);
  EXPECT_FALSE(authorize(Access::admin, key(Role::admin), ""));
}

TEST(Authorize, CustomerTokenOnCisRouteIsForbidden) {
  auto e = authorize(Access::cis_or_admin, customer("c1"), "c1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ErrorKind::forbidden);
}

TEST(Authorize, CustomerReachesOnlyItsOwnResourcesAndOthersLookMissing) {
  EXPECT_FALSE(authorize(Access::customer_or_staff, customer("c1"), "c1"));
  auto e = authorize(Access::customer_or_staff, customer("c1"), "c2");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ErrorKind::not_found);
  EXPECT_FALSE(authorize(Access::customer_or_staff, key(Role::cis), "c2"));
}

TEST(PrincipalActor, NamesCustomerOrKey) {
  EXPECT_EQ(customer("c9").actor(), "customer:c9");
  EXPECT_EQ(key(Role::admin).actor(), "key:k");
  EXPECT_EQ((Principal{Role::cis, "", ""}).actor(), "key:cis");
}

namespace {
struct Fixture {
  int lookups = 0;
  std::chrono::steady_clock::time_point now{};
  Authenticator auth{
      [this](const std::string& k) -> std::optional<Authenticator::KeyInfo> {
        ++lookups;
        if (k == "hk_admin") return Authenticator::KeyInfo{"admin", "ops"};
        return std::nullopt;
      },
      [](const std::string& t) -> std::optional<herald::Json> {
        if (t == "tok-c1") return herald::Json{{"sub", "c1"}, {"role", "customer"}, {"exp", 1}};
        if (t == "tok-norole") return herald::Json{{"sub", "c1"}, {"exp", 1}};
        return std::nullopt;
      },
      std::chrono::seconds(30), [this] { return now; }};
};
}  // namespace

TEST(Authenticator, ResolvesCustomerTokensWithoutKeyLookup) {
  Fixture f;
  auto who = f.auth.authenticate("tok-c1");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->role, Role::customer);
  EXPECT_EQ(who->customer_id, "c1");
  EXPECT_EQ(f.lookups, 0);
}

TEST(Authenticator, SignedTokenWithoutCustomerRoleIsRejected) {
  Fixture f;
  EXPECT_FALSE(f.auth.authenticate("tok-norole"));
}

TEST(Authenticator, CachesFoundKeysForTheTtlThenLooksUpAgain) {
  Fixture f;
  ASSERT_TRUE(f.auth.authenticate("hk_admin"));
  ASSERT_TRUE(f.auth.authenticate("hk_admin"));
  EXPECT_EQ(f.lookups, 1);
  f.now += std::chrono::seconds(31);
  auto who = f.auth.authenticate("hk_admin");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->role, Role::admin);
  EXPECT_EQ(f.lookups, 2);
}

TEST(Authenticator, UnknownKeysAreNotCached) {
  Fixture f;
  EXPECT_FALSE(f.auth.authenticate("hk_nope"));
  EXPECT_FALSE(f.auth.authenticate("hk_nope"));
  EXPECT_EQ(f.lookups, 2);
}

// API keys and the audit log against a real Postgres.
#include <gtest/gtest.h>

#include "herald/domain/signed_token.hpp"
#include "herald/store/api_keys.hpp"
#include "herald/store/audit.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::TestDb;

TEST(StoreApiKeys, KeyIsStoredHashedAndResolvesToItsRole) {
  TestDb t;
  const auto admin = create_api_key(t.db(), "admin", "ops");
  const auto cis = create_api_key(t.db(), "cis", "billing-system");
  EXPECT_EQ(admin.rfind("hk_", 0), 0u);
  EXPECT_GE(admin.size(), 40u);
  EXPECT_NE(admin, cis);
  EXPECT_EQ(role_for_api_key(t.db(), admin), "admin");
  EXPECT_EQ(role_for_api_key(t.db(), cis), "cis");
  EXPECT_FALSE(role_for_api_key(t.db(), admin + "x"));
  EXPECT_FALSE(role_for_api_key(t.db(), ""));
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.api_keys WHERE key_hash = '" + sha256_hex(admin) + "'"), "1");
  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.api_keys WHERE key_hash LIKE 'hk_%'"), "0");
}

TEST(StoreApiKeys, RevokedKeyNoLongerResolves) {
  TestDb t;
  const auto key = create_api_key(t.db(), "cis", "old");
  EXPECT_EQ(revoke_api_keys(t.db(), "old"), 1);
  EXPECT_FALSE(role_for_api_key(t.db(), key));
  EXPECT_EQ(revoke_api_keys(t.db(), "old"), 0);
}

TEST(StoreApiKeys, UnknownRoleIsRejected) {
  TestDb t;
  EXPECT_THROW(create_api_key(t.db(), "customer", "x"), std::invalid_argument);
}

TEST(StoreAudit, RecordsActorActionTargetAndDetail) {
  TestDb t;
  audit(t.db(), "admin:ops", "messages.reveal", "message:42", {{"ip", "127.0.0.1"}});
  EXPECT_EQ(t.query_value("SELECT actor || '|' || action || '|' || target || '|' || (detail ->> 'ip')"
                          " FROM herald.audit_log"),
            "admin:ops|messages.reveal|message:42|127.0.0.1");
}

}  // namespace
}  // namespace herald::store

// The CIS actions client against the fake CIS over real HTTP and a real Postgres: signatures,
// one charge per idempotency key across retries and repeated asks, and the CIS being down.
#include <gtest/gtest.h>

#include "fake_cis_process.hpp"
#include "herald/engine/cis.hpp"
#include "herald/store/cis_actions.hpp"
#include "test_db.hpp"

namespace herald::engine {
namespace {

using gateways::CisOutcome;
using herald::test::FakeCisProcess;
using herald::test::TestDb;

CisConfig config_for(const FakeCisProcess& cis, std::chrono::milliseconds timeout = std::chrono::milliseconds(1500)) {
  CisConfig c;
  c.actions_url = cis.actions_url();
  c.secret = FakeCisProcess::kSecret;
  c.timeout = timeout;
  c.max_attempts = 2;
  return c;
}

const Json kPayment{{"account_id", "A-1001"}, {"amount", "82.17"}, {"card", "on_file"}};

class CisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cis_.set_account("A-1001", {{"amount_due", "82.17"}, {"due_date", "2026-12-10"}, {"card_last4", "4242"},
                                {"zip", "62701"}});
  }
  TestDb t_;
  FakeCisProcess cis_;
  rules::SystemClock clock_;
};

TEST_F(CisClientTest, SignedRequestIsVerifiedByTheCisAndAnswerRecorded) {
  CisClient client(t_.db(), config_for(cis_));
  const auto r = client.perform(gateways::kBalanceLookup, "bal-1", {{"account_id", "A-1001"}}, {"A-1001", {}, 17}, clock_.now());
  ASSERT_EQ(r.outcome, CisOutcome::ok) << r.reason << " " << r.detail;
  EXPECT_EQ(r.data["amount_due"], "82.17");
  EXPECT_EQ(r.data["due_date"], "2026-12-10");

  const auto state = cis_.state();
  ASSERT_EQ(state["requests"].size(), 1u);
  EXPECT_TRUE(state["requests"][0]["signature_ok"].get<bool>()) << state["requests"][0].dump();
  EXPECT_EQ(state["requests"][0]["headers"]["idempotency-key"], "bal-1");
  EXPECT_EQ(state["bad_signatures"], 0);
  EXPECT_EQ(t_.query_value("SELECT status || ':' || attempts || ':' || account_id || ':' || inbound_id"
                           " FROM herald.cis_actions WHERE idempotency_key = 'bal-1'"),
            "ok:1:A-1001:17");
}

TEST_F(CisClientTest, WrongSecretIsRefusedByTheCisAsDeclined) {
  auto config = config_for(cis_);
  config.secret = "not-the-secret";
  CisClient client(t_.db(), config);
  const auto r = client.perform(gateways::kBalanceLookup, "bal-bad", {{"account_id", "A-1001"}}, {}, clock_.now());
  EXPECT_EQ(r.outcome, CisOutcome::declined);
  EXPECT_EQ(r.reason, "bad_signature");
  EXPECT_EQ(cis_.state()["bad_signatures"], 1);
}

TEST_F(CisClientTest, RetryAfterAnErrorUsesTheSameKeyAndChargesOnce) {
  cis_.fail_next(1, "error");
  CisClient client(t_.db(), config_for(cis_));
  const auto r = client.perform(gateways::kPaymentAuthorize, "conv-9-pay", kPayment, {"A-1001", 9, {}}, clock_.now());
  ASSERT_EQ(r.outcome, CisOutcome::ok) << r.reason;
  EXPECT_FALSE(r.from_record);
  const auto state = cis_.state();
  ASSERT_EQ(state["requests"].size(), 2u);
  EXPECT_EQ(state["requests"][0]["headers"]["idempotency-key"], "conv-9-pay");
  EXPECT_EQ(state["requests"][1]["headers"]["idempotency-key"], "conv-9-pay");
  EXPECT_EQ(state["charge_count"], 1);
  EXPECT_EQ(t_.query_value("SELECT status || ':' || attempts FROM herald.cis_actions"), "ok:2");
}

TEST_F(CisClientTest, LostAnswerIsRetriedAndTheCisChargesOnlyOnce) {
  // The CIS charges, then its answer arrives after the client gave up: the retry, with the same
  // key, gets the first answer back.
  cis_.fail_next(1, "charge_then_timeout", 2.0);
  CisClient client(t_.db(), config_for(cis_, std::chrono::milliseconds(500)));
  const auto r = client.perform(gateways::kPaymentAuthorize, "conv-10-pay", kPayment, {"A-1001", 10, {}}, clock_.now());
  ASSERT_EQ(r.outcome, CisOutcome::ok) << r.reason;
  EXPECT_EQ(r.data["confirmation"], "PAY-00001");
  const auto state = cis_.state();
  EXPECT_EQ(state["requests"].size(), 2u);
  EXPECT_EQ(state["charge_count"], 1);
}

TEST_F(CisClientTest, AnsweredKeyReturnsTheStoredAnswerWithoutCallingAgain) {
  CisClient client(t_.db(), config_for(cis_));
  const auto first = client.perform(gateways::kPaymentAuthorize, "conv-11-pay", kPayment, {"A-1001", 11, {}}, clock_.now());
  ASSERT_EQ(first.outcome, CisOutcome::ok);
  const auto again = client.perform(gateways::kPaymentAuthorize, "conv-11-pay", kPayment, {"A-1001", 11, {}}, clock_.now());
  EXPECT_EQ(again.outcome, CisOutcome::ok);
  EXPECT_TRUE(again.from_record);
  EXPECT_EQ(again.data["confirmation"], first.data["confirmation"]);
  EXPECT_EQ(cis_.state()["requests"].size(), 1u);
  EXPECT_EQ(cis_.state()["charge_count"], 1);
}

TEST_F(CisClientTest, DeclinedIsFinalAndCarriesTheReason) {
  cis_.set_account("A-2002", {{"amount_due", "10.00"}, {"card_last4", "1111"}, {"decline", true}});
  CisClient client(t_.db(), config_for(cis_));
  const Json params{{"account_id", "A-2002"}, {"amount", "10.00"}, {"card", "on_file"}};
  const auto r = client.perform(gateways::kPaymentAuthorize, "conv-12-pay", params, {}, clock_.now());
  EXPECT_EQ(r.outcome, CisOutcome::declined);
  EXPECT_EQ(r.reason, "card_declined");
  EXPECT_TRUE(client.perform(gateways::kPaymentAuthorize, "conv-12-pay", params, {}, clock_.now()).from_record);
  EXPECT_EQ(cis_.state()["requests"].size(), 1u);
}

TEST_F(CisClientTest, CisDownIsUnavailableAndTheNextAskCallsAgainWithTheSameKey) {
  cis_.set_down(true);
  CisClient client(t_.db(), config_for(cis_));
  const auto down = client.perform(gateways::kPaymentAuthorize, "conv-13-pay", kPayment, {}, clock_.now());
  EXPECT_EQ(down.outcome, CisOutcome::unavailable);
  EXPECT_EQ(down.reason, "http_503");
  EXPECT_EQ(t_.query_value("SELECT status || ':' || attempts FROM herald.cis_actions"), "unavailable:2");
  EXPECT_EQ(cis_.state()["charge_count"], 0);

  cis_.set_down(false);
  const auto up = client.perform(gateways::kPaymentAuthorize, "conv-13-pay", kPayment, {}, clock_.now());
  EXPECT_EQ(up.outcome, CisOutcome::ok);
  EXPECT_FALSE(up.from_record);
  EXPECT_EQ(cis_.state()["charge_count"], 1);
  EXPECT_EQ(t_.query_value("SELECT status || ':' || attempts FROM herald.cis_actions"), "ok:3");
}

TEST_F(CisClientTest, RefusedConnectionIsUnavailable) {
  CisConfig config;
  config.actions_url = "http://127.0.0.1:1/actions";
  config.secret = "x";
  config.timeout = std::chrono::milliseconds(1000);
  CisClient client(t_.db(), config);
  const auto r = client.perform(gateways::kBalanceLookup, "bal-refused", {{"account_id", "A-1001"}}, {}, clock_.now());
  EXPECT_EQ(r.outcome, CisOutcome::unavailable);
  EXPECT_EQ(r.reason, "connect");
}

TEST_F(CisClientTest, WithoutACisNothingIsSentOrRecorded) {
  CisClient client(t_.db(), CisConfig{});
  EXPECT_FALSE(client.configured());
  const auto r = client.perform(gateways::kPaymentAuthorize, "conv-14-pay", kPayment, {}, clock_.now());
  EXPECT_EQ(r.outcome, CisOutcome::unavailable);
  EXPECT_EQ(r.reason, "not_configured");
  EXPECT_EQ(t_.query_value("SELECT count(*) FROM herald.cis_actions"), "0");
}

TEST_F(CisClientTest, AKeyInFlightElsewhereIsNotSentTwice) {
  const auto now = clock_.now();
  ASSERT_EQ(store::claim_cis_action(t_.db(), "conv-15-pay", gateways::kPaymentAuthorize, kPayment, {}, now,
                                    now - std::chrono::minutes(1))
                .claim,
            store::CisClaim::claimed);
  CisClient client(t_.db(), config_for(cis_));
  const auto r = client.perform(gateways::kPaymentAuthorize, "conv-15-pay", kPayment, {}, clock_.now());
  EXPECT_EQ(r.outcome, CisOutcome::unavailable);
  EXPECT_EQ(r.reason, "in_progress");
  EXPECT_EQ(cis_.state()["requests"].size(), 0u);
}

}  // namespace
}  // namespace herald::engine

// The CIS actions codec: the signed request and the three outcomes of an answer.
#include <gtest/gtest.h>

#include "herald/gateways/cis.hpp"

namespace herald::gateways {
namespace {

TimePoint at(const char* rfc3339) { return *parse_time(rfc3339); }

TEST(CisCodec, SignatureIsHexHmacSha256OfTheBody) {
  // python3 -c "import hmac,hashlib; print(hmac.new(b'secret', b'{\"a\":1}', hashlib.sha256).hexdigest())"
  EXPECT_EQ(cis_signature("secret", R"({"a":1})"),
            "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494");
  EXPECT_TRUE(verify_cis_signature("secret", R"({"a":1})",
                                   "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494"));
  EXPECT_FALSE(verify_cis_signature("secret", R"({"a":2})",
                                    "sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494"));
  EXPECT_FALSE(verify_cis_signature("other", R"({"a":1})", cis_signature("secret", R"({"a":1})")));
}

TEST(CisCodec, RequestCarriesKeyTimestampAndSignatureOfItsBody) {
  const auto r = build_cis_request("https://cis.example.com/actions", "k", kPaymentAuthorize, "conv-7-pay",
                                   Json{{"account_id", "A-1"}, {"amount", "82.17"}}, at("2026-12-02T10:00:00.750Z"));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://cis.example.com/actions");
  const auto body = Json::parse(r.body);
  EXPECT_EQ(body["action"], "payment.authorize");
  EXPECT_EQ(body["idempotency_key"], "conv-7-pay");
  EXPECT_EQ(body["sent_at"], "2026-12-02T10:00:00Z");
  EXPECT_EQ(body["params"]["amount"], "82.17");
  EXPECT_EQ(find_header(r.headers, "idempotency-key").value_or(""), "conv-7-pay");
  EXPECT_EQ(find_header(r.headers, "x-herald-timestamp").value_or(""), "1796205600");
  EXPECT_EQ(find_header(r.headers, "content-type").value_or(""), "application/json");
  EXPECT_TRUE(verify_cis_signature("k", r.body, find_header(r.headers, "x-herald-signature").value_or("")));
}

TransferResponse http(long status, std::string body) {
  TransferResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(CisCodec, AnswersBecomeOkDeclinedOrUnavailable) {
  auto ok = parse_cis_response(http(200, R"({"confirmation": "PAY-1"})"));
  EXPECT_EQ(ok.outcome, CisOutcome::ok);
  EXPECT_EQ(ok.data["confirmation"], "PAY-1");

  auto declined = parse_cis_response(http(402, R"({"reason": "card_declined", "message": "declined"})"));
  EXPECT_EQ(declined.outcome, CisOutcome::declined);
  EXPECT_EQ(declined.reason, "card_declined");
  EXPECT_EQ(declined.detail, "declined");
  EXPECT_EQ(parse_cis_response(http(404, R"({"error": {"code": "unknown_account"}})")).reason, "unknown_account");
  EXPECT_EQ(parse_cis_response(http(400, "nope")).reason, "declined");

  for (long s : {408L, 429L, 500L, 502L, 503L, 504L, 302L}) {
    auto a = parse_cis_response(http(s, "{}"));
    EXPECT_EQ(a.outcome, CisOutcome::unavailable) << s;
    EXPECT_EQ(a.reason, "http_" + std::to_string(s));
  }
  auto not_json = parse_cis_response(http(200, "<html>ok</html>"));
  EXPECT_EQ(not_json.outcome, CisOutcome::unavailable);
  EXPECT_EQ(not_json.reason, "bad_response");

  TransferResponse timeout;
  timeout.curl_code = 28;
  timeout.error_code = "timeout";
  timeout.error = "Operation timed out";
  auto t = parse_cis_response(timeout);
  EXPECT_EQ(t.outcome, CisOutcome::unavailable);
  EXPECT_EQ(t.reason, "timeout");
}

}  // namespace
}  // namespace herald::gateways

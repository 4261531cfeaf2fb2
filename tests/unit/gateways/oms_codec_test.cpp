// The OMS report forward codec: signed like the CIS actions, accepted on any 2xx.
#include <gtest/gtest.h>

#include "herald/gateways/cis.hpp"
#include "herald/gateways/oms.hpp"

namespace herald::gateways {
namespace {

TEST(OmsCodec, ReportRequestIsSignedAndStampedLikeACisAction) {
  const auto now = *parse_time("2026-11-20T10:00:00.5Z");
  const auto request = build_oms_report_request("https://oms.example.com/reports", "s3cret", "outage-report-OR-7",
                                                Json{{"report_id", "OR-7"}, {"premise_id", "P-77"}}, now);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.url, "https://oms.example.com/reports");
  const auto body = Json::parse(request.body);
  EXPECT_EQ(body["type"], "outage.report");
  EXPECT_EQ(body["idempotency_key"], "outage-report-OR-7");
  EXPECT_EQ(body["sent_at"], "2026-11-20T10:00:00Z");
  EXPECT_EQ(body["report"]["premise_id"], "P-77");
  EXPECT_EQ(find_header(request.headers, "Idempotency-Key").value_or(""), "outage-report-OR-7");
  EXPECT_EQ(find_header(request.headers, "X-Herald-Timestamp").value_or(""), "1795168800");
  const std::string signature(find_header(request.headers, "X-Herald-Signature").value_or(""));
  EXPECT_TRUE(verify_cis_signature("s3cret", request.body, signature));
  EXPECT_FALSE(verify_cis_signature("other", request.body, signature));
}

TEST(OmsCodec, OnlyA2xxIsAcceptedAndEverythingElseNamesWhy) {
  auto http = [](long status) {
    TransferResponse r;
    r.status = status;
    r.body = "not json";
    return r;
  };
  EXPECT_TRUE(parse_oms_response(http(200)).accepted);
  EXPECT_TRUE(parse_oms_response(http(204)).accepted);
  for (long s : {401L, 404L, 409L, 429L, 503L, 302L}) {
    const auto a = parse_oms_response(http(s));
    EXPECT_FALSE(a.accepted) << s;
    EXPECT_EQ(a.reason, "http_" + std::to_string(s));
    EXPECT_EQ(a.http_status, s);
  }
  TransferResponse timeout;
  timeout.curl_code = 28;
  timeout.error_code = "timeout";
  const auto t = parse_oms_response(timeout);
  EXPECT_FALSE(t.accepted);
  EXPECT_EQ(t.reason, "timeout");
}

}  // namespace
}  // namespace herald::gateways

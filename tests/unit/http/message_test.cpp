// Query parsing, percent-decoding, the API error shape and the error kind -> status mapping.
#include "herald/http/message.hpp"

#include "herald/domain/json_io.hpp"

#include <gtest/gtest.h>

using namespace herald::http;

TEST(Query, DecodesPairsPlusAndEscapes) {
  auto q = parse_query("customer_id=c%2B1&q=late+fee&reveal=1&empty=&flag");
  EXPECT_EQ(q.at("customer_id"), "c+1");
  EXPECT_EQ(q.at("q"), "late fee");
  EXPECT_EQ(q.at("reveal"), "1");
  EXPECT_EQ(q.at("empty"), "");
  EXPECT_EQ(q.at("flag"), "");
}

TEST(Query, LastDuplicateWins) { EXPECT_EQ(parse_query("a=1&a=2").at("a"), "2"); }

TEST(PercentDecode, RejectsTruncatedAndNonHexEscapes) {
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%g1"));
  EXPECT_EQ(*percent_decode("%41b"), "Ab");
  EXPECT_EQ(*percent_decode("a+b"), "a+b");
  EXPECT_EQ(*percent_decode("a+b", true), "a b");
}

TEST(RequestTarget, SplitsPathAndQuery) {
  Request r;
  r.target = "/v1/messages?limit=5&cursor=x";
  EXPECT_EQ(r.path(), "/v1/messages");
  EXPECT_EQ(r.query_string(), "limit=5&cursor=x");
  r.target = "/livez";
  EXPECT_EQ(r.query_string(), "");
}

TEST(RequestHeaders, NamesAreCaseInsensitive) {
  Request r;
  r.set_header("Content-Type", "application/json");
  EXPECT_EQ(r.header("content-type").value_or(""), "application/json");
}

TEST(ErrorResponse, HasTheApiShapeAndStatus) {
  auto r = error_response(herald::invalid("type", "unknown_event_type", "no such type"));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.header("content-type").value_or(""), "application/json");
  auto body = herald::Json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "unknown_event_type");
  EXPECT_EQ(body["error"]["field"], "type");
  EXPECT_EQ(body["error"]["message"], "no such type");
}

TEST(HttpStatus, SaysEachKindOfErrorWithItsOwnStatus) {
  using herald::ErrorKind;
  const std::pair<ErrorKind, int> expected[] = {
      {ErrorKind::malformed, 400},          {ErrorKind::unauthenticated, 401},
      {ErrorKind::forbidden, 403},          {ErrorKind::not_found, 404},
      {ErrorKind::method_not_allowed, 405}, {ErrorKind::conflict, 409},
      {ErrorKind::too_large, 413},          {ErrorKind::unsupported_media_type, 415},
      {ErrorKind::invalid, 422},            {ErrorKind::rate_limited, 429},
      {ErrorKind::unavailable, 503},
  };
  for (const auto& [kind, status] : expected) EXPECT_EQ(http_status(kind), status) << to_string(kind);
}

TEST(ErrorResponse, OmitsEmptyFieldAndChallengesOn401) {
  auto r = error_response(herald::ErrorKind::unauthenticated, "unauthorized", "no credentials");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), "Bearer");
  EXPECT_FALSE(herald::Json::parse(r.body)["error"].contains("field"));
}

TEST(JsonResponse, ReplacesInvalidUtf8InsteadOfThrowing) {
  auto r = json_response(200, herald::Json{{"body", std::string("ok\xff")}});
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("ok"), std::string::npos);
}

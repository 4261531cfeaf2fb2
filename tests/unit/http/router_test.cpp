// Route matching: unknown path 404, wrong method 405 with Allow, parameters, specificity.
#include "herald/http/router.hpp"

#include <gtest/gtest.h>

using herald::http::Router;

namespace {

Router api_routes() {
  Router r;
  r.add("GET", "/livez");                       // 0
  r.add("PUT", "/v1/customers/{id}");           // 1
  r.add("GET", "/v1/customers/{id}");           // 2
  r.add("POST", "/v1/events");                  // 3
  r.add("POST", "/v1/events/batch");            // 4
  r.add("GET", "/v1/events/{event_id}");        // 5
  r.add("GET", "/v1/customers/{id}/preferences");  // 6
  r.add("GET", "/portal/*");                    // 7
  return r;
}

}  // namespace

TEST(Router, UnknownPathIsNotFound) {
  auto r = api_routes();
  auto found = r.lookup("GET", "/v1/nothing");
  EXPECT_EQ(found.status, 404);
  EXPECT_FALSE(found.match);
}

TEST(Router, KnownPathWithOtherMethodIsMethodNotAllowedWithAllow) {
  auto r = api_routes();
  auto found = r.lookup("DELETE", "/v1/customers/c1");
  EXPECT_EQ(found.status, 405);
  EXPECT_EQ(found.allow, (std::vector<std::string>{"GET", "PUT"}));
}

TEST(Router, ExtractsPathParameters) {
  auto r = api_routes();
  auto found = r.lookup("GET", "/v1/customers/c%2042/preferences");
  ASSERT_TRUE(found.match);
  EXPECT_EQ(found.match->index, 6u);
  EXPECT_EQ(found.match->params.at("id"), "c 42");
  EXPECT_EQ(found.match->pattern, "/v1/customers/{id}/preferences");
}

TEST(Router, LiteralSegmentBeatsParameterForTheSameMethod) {
  auto r = api_routes();
  auto batch = r.lookup("POST", "/v1/events/batch");
  ASSERT_TRUE(batch.match);
  EXPECT_EQ(batch.match->index, 4u);
  // GET of an event whose id happens to be "batch" still reaches the event lookup.
  auto get = r.lookup("GET", "/v1/events/batch");
  ASSERT_TRUE(get.match);
  EXPECT_EQ(get.match->index, 5u);
}

TEST(Router, MethodNotAllowedListsEveryMethodOfEveryMatchingPattern) {
  auto r = api_routes();
  auto found = r.lookup("DELETE", "/v1/events/batch");
  EXPECT_EQ(found.status, 405);
  EXPECT_EQ(found.allow, (std::vector<std::string>{"GET", "POST"}));
}

TEST(Router, WildcardTakesTheRestOfThePath) {
  auto r = api_routes();
  auto found = r.lookup("GET", "/portal/js/app.js");
  ASSERT_TRUE(found.match);
  EXPECT_EQ(found.match->params.at("*"), "js/app.js");
  auto root = r.lookup("GET", "/portal/");
  ASSERT_TRUE(root.match);
  EXPECT_EQ(root.match->params.at("*"), "");
}

TEST(Router, TrailingSlashMatchesTheSameResource) {
  auto r = api_routes();
  EXPECT_TRUE(r.lookup("GET", "/livez/").match);
}

TEST(Router, MalformedEscapeOrEncodedSlashIsNotFound) {
  auto r = api_routes();
  EXPECT_EQ(r.lookup("GET", "/v1/customers/%zz").status, 404);
  EXPECT_EQ(r.lookup("GET", "/v1/customers/a%2Fb").status, 404);
  EXPECT_EQ(r.lookup("GET", "relative").status, 404);
}

TEST(Router, EmptyParameterDoesNotMatch) {
  auto r = api_routes();
  EXPECT_EQ(r.lookup("GET", "/v1/customers//preferences").status, 404);
}

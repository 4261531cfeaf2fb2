// Over real HTTP: the web pages under /portal/ and /admin/ come from the configured web root.
#include <filesystem>
#include <fstream>
#include <random>

#include "http_test_client.hpp"

namespace herald::test {
namespace {

namespace fs = std::filesystem;

class HttpStatic : public HttpServerFixture {
 protected:
  HttpStatic() {
    root_ = fs::temp_directory_path() / ("herald-web-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "portal");
    std::ofstream(root_ / "portal" / "index.html") << "<!doctype html><title>Preferences</title>";
    std::ofstream(root_ / "portal" / "app.js") << "console.log(1)";
    std::ofstream(root_ / "secret.txt") << "not for the web";
    fs::create_directories(root_ / "admin");
    std::ofstream(root_ / "admin" / "index.html") << "<!doctype html><title>Console</title>";
    fs::create_directories(root_ / "vendor" / "preact");
    std::ofstream(root_ / "vendor" / "preact" / "preact.umd.js") << "var preact;";
    config_.web_root = root_.string();
  }
  ~HttpStatic() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(HttpStatic, ServesIndexForTheDirectoryWithHtmlType) {
  auto r = call("GET", "/portal/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("Preferences"), std::string::npos);
}

TEST_F(HttpStatic, ServesFilesWithTheirContentType) {
  auto r = call("GET", "/portal/app.js");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/javascript; charset=utf-8");
  EXPECT_EQ(r.body, "console.log(1)");
}

TEST_F(HttpStatic, DirectoryWithoutSlashRedirects) {
  auto r = call("GET", "/portal");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("location"), "/portal/");
}

TEST_F(HttpStatic, MissingPagesAndTraversalAreNotFound) {
  EXPECT_EQ(call("GET", "/admin/missing.html").status, 404);
  EXPECT_EQ(call("GET", "/portal/nope.js").status, 404);
  EXPECT_EQ(call("GET", "/portal/../secret.txt").status, 404);
  EXPECT_EQ(call("GET", "/portal/%2e%2e/secret.txt").status, 404);
}

HttpResponse get_with(std::uint16_t port, const std::string& target, std::map<std::string, std::string> headers) {
  HttpRequestSpec spec;
  spec.target = target;
  spec.headers = std::move(headers);
  return http_exchange(port, spec);
}

void expect_page_headers(const HttpResponse& r) {
  const auto csp = r.header("content-security-policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;  // no inline script, no eval
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("object-src 'none'"), std::string::npos) << csp;
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
}

TEST_F(HttpStatic, EveryAnswerCarriesTheSecurityHeaders) {
  for (const char* target : {"/portal/", "/portal/app.js", "/admin/", "/vendor/preact/preact.umd.js",
                             "/portal/nope.js", "/portal"}) {
    SCOPED_TRACE(target);
    expect_page_headers(call("GET", target));
  }
}

TEST_F(HttpStatic, PortalStylesComeFromFilesOnlyTheConsoleAllowsInlineStylesForEmailPreviews) {
  auto portal = call("GET", "/portal/").header("content-security-policy");
  EXPECT_NE(portal.find("style-src 'self';"), std::string::npos) << portal;
  EXPECT_EQ(portal.find("unsafe"), std::string::npos) << portal;
  auto admin = call("GET", "/admin/").header("content-security-policy");
  EXPECT_NE(admin.find("style-src 'self' 'unsafe-inline';"), std::string::npos) << admin;
  EXPECT_NE(admin.find("script-src 'self';"), std::string::npos) << admin;
}

TEST_F(HttpStatic, VendorLibrariesAreServed) {
  auto r = call("GET", "/vendor/preact/preact.umd.js");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/javascript; charset=utf-8");
  EXPECT_EQ(r.body, "var preact;");
  EXPECT_EQ(call("GET", "/vendor/../secret.txt").status, 404);
}

TEST_F(HttpStatic, UnchangedFileAnswers304ToItsEntityTag) {
  auto first = call("GET", "/portal/app.js");
  ASSERT_EQ(first.status, 200);
  const auto etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(first.header("cache-control"), "no-cache");
  EXPECT_FALSE(first.header("last-modified").empty());

  auto again = get_with(port_, "/portal/app.js", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.header("etag"), etag);
  expect_page_headers(again);
  // A list, and the weak form of the same tag, match too (weak comparison).
  EXPECT_EQ(get_with(port_, "/portal/app.js", {{"If-None-Match", "\"other\", W/" + etag}}).status, 304);
  EXPECT_EQ(get_with(port_, "/portal/app.js", {{"If-None-Match", "*"}}).status, 304);
  auto other = get_with(port_, "/portal/app.js", {{"If-None-Match", "\"other\""}});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body, "console.log(1)");
}

TEST_F(HttpStatic, ChangedFileAnswersItsNewContentToTheOldTag) {
  const auto old_tag = call("GET", "/portal/app.js").header("etag");
  std::ofstream(root_ / "portal" / "app.js") << "console.log(2)";
  auto r = get_with(port_, "/portal/app.js", {{"If-None-Match", old_tag}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "console.log(2)");
  EXPECT_NE(r.header("etag"), old_tag);
}

TEST_F(HttpStatic, IfModifiedSinceWithTheServedDateAnswers304) {
  const auto modified = call("GET", "/portal/").header("last-modified");
  ASSERT_FALSE(modified.empty());
  EXPECT_EQ(get_with(port_, "/portal/", {{"If-Modified-Since", modified}}).status, 304);
  EXPECT_EQ(get_with(port_, "/portal/", {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}).status, 200);
}

}  // namespace
}  // namespace herald::test

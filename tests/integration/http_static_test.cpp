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
  EXPECT_EQ(call("GET", "/admin/").status, 404);  // no admin pages yet
  EXPECT_EQ(call("GET", "/portal/nope.js").status, 404);
  EXPECT_EQ(call("GET", "/portal/../secret.txt").status, 404);
  EXPECT_EQ(call("GET", "/portal/%2e%2e/secret.txt").status, 404);
}

}  // namespace
}  // namespace herald::test

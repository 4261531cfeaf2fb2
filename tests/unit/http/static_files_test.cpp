// Static files stay inside the web root; directories serve index.html.
#include "herald/http/static_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace fs = std::filesystem;
using namespace herald::http;

namespace {
struct WebRoot {
  fs::path dir;
  WebRoot() {
    dir = fs::temp_directory_path() / ("herald-web-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir / "root" / "portal" / "js");
    std::ofstream(dir / "root" / "portal" / "index.html") << "<html>portal</html>";
    std::ofstream(dir / "root" / "portal" / "js" / "app.js") << "1";
    std::ofstream(dir / "root" / "portal" / ".secret") << "x";
    std::ofstream(dir / "outside.txt") << "secret";
    fs::create_symlink(dir / "outside.txt", dir / "root" / "portal" / "link.txt");
  }
  ~WebRoot() { fs::remove_all(dir); }
  fs::path root() const { return dir / "root"; }
};
}  // namespace

TEST(StaticFiles, DirectoryServesItsIndex) {
  WebRoot w;
  auto p = resolve_static(w.root(), "portal");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->filename(), "index.html");
}

TEST(StaticFiles, FindsNestedFiles) {
  WebRoot w;
  auto p = resolve_static(w.root(), "portal/js/app.js");
  ASSERT_TRUE(p);
  EXPECT_EQ(content_type_for(*p), "application/javascript; charset=utf-8");
}

TEST(StaticFiles, RefusesTraversalHiddenFilesAndSymlinksOut) {
  WebRoot w;
  EXPECT_FALSE(resolve_static(w.root(), "portal/../../outside.txt"));
  EXPECT_FALSE(resolve_static(w.root(), "portal/.secret"));
  EXPECT_FALSE(resolve_static(w.root(), "portal/link.txt"));
  EXPECT_FALSE(resolve_static(w.root(), "portal/missing.js"));
  EXPECT_FALSE(resolve_static("", "portal"));
}

TEST(StaticFiles, ContentTypesByExtension) {
  EXPECT_EQ(content_type_for("a/index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("a/style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("a/blob.bin"), "application/octet-stream");
}

TEST(StaticFiles, EntityTagFollowsTheContent) {
  EXPECT_EQ(entity_tag("abc"), entity_tag("abc"));
  EXPECT_NE(entity_tag("abc"), entity_tag("abd"));
  EXPECT_EQ(entity_tag("abc").size(), 34u);  // quoted 32 hex digits
}

TEST(StaticFiles, IfNoneMatchUsesWeakComparison) {
  const auto tag = entity_tag("x");
  EXPECT_TRUE(none_match_hits(tag, tag));
  EXPECT_TRUE(none_match_hits("W/" + tag, tag));
  EXPECT_TRUE(none_match_hits("\"a\" ,  " + tag + " ", tag));
  EXPECT_TRUE(none_match_hits("*", tag));
  EXPECT_FALSE(none_match_hits("\"a\", \"b\"", tag));
  EXPECT_FALSE(none_match_hits("", tag));
  EXPECT_FALSE(none_match_hits(",,", tag));
}

TEST(StaticFiles, PolicyForbidsInlineScriptAndFraming) {
  for (auto section : {"portal", "admin", "vendor"}) {
    auto csp = content_security_policy(section);
    EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << section;
    EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << section;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << section;
  }
  EXPECT_EQ(content_security_policy("portal").find("unsafe-inline"), std::string::npos);
}

// Operations endpoints (liveness, readiness, metrics, the OpenAPI document) and static pages.
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "handlers.hpp"
#include "herald/domain/metrics.hpp"
#include "herald/http/api.hpp"
#include "herald/http/static_files.hpp"
#include "openapi_json.hpp"

namespace herald::http {

std::string_view openapi_document() { return kOpenApiJson; }

namespace handlers {

Response livez(Context&) { return json_response(200, Json{{"status", "live"}}); }

Response readyz(Context& ctx) {
  bool ready = !ctx.draining;
  if (ready && ctx.services.ready) {
    try {
      ready = ctx.services.ready();
    } catch (...) {
      ready = false;  // an unreachable database is "not ready", not an error
    }
  }
  if (ready) return json_response(200, Json{{"status", "ready"}});
  auto r = json_response(503, Json{{"status", ctx.draining ? "draining" : "not_ready"},
                                   {"error", {{"code", "unavailable"}, {"message", "not ready to serve"}}}});
  r.set_header("Retry-After", "1");
  return r;
}

Response metrics(Context&) {
  return text_response(200, metrics::Registry::global().render(), "text/plain; version=0.0.4; charset=utf-8");
}

Response openapi(Context&) {
  auto r = text_response(200, std::string(kOpenApiJson), "application/json");
  r.set_header("Cache-Control", "no-cache");
  return r;
}

namespace {

// What every answer under /portal/, /admin/ and /vendor/ carries, errors and redirects included.
void set_page_headers(Response& r, std::string_view section) {
  r.set_header("Content-Security-Policy", content_security_policy(section));
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "no-referrer");  // the portal's token must not leave in a Referer
  r.set_header("X-Frame-Options", "DENY");         // frame-ancestors for browsers without CSP 2
}

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a file's modification time.
std::string last_modified(const std::filesystem::path& file) {
  std::error_code ec;
  auto written = std::filesystem::last_write_time(file, ec);
  if (ec) return {};
  auto seconds = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::file_clock::to_sys(written)));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char out[40];
  return std::string(out, std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S GMT", &utc));
}

}  // namespace

Response static_file(Context& ctx) {
  const auto& rest = ctx.param("*");
  auto path = ctx.request.path();
  auto section = path.substr(1, path.find('/', 1) - 1);  // "portal", "admin" or "vendor"
  // "/portal" must become "/portal/" or the page's relative links resolve one level too high.
  if (rest.empty() && path.back() != '/') {
    Response r;
    r.status = 301;
    r.set_header("Location", "/" + std::string(section) + "/");
    set_page_headers(r, section);
    return r;
  }
  auto not_found = [&] {
    auto r = error_response(ErrorKind::not_found, "not_found", "no such page");
    set_page_headers(r, section);
    return r;
  };
  auto file = resolve_static(ctx.config.web_root, std::string(section) + "/" + rest);
  if (!file) return not_found();
  std::ifstream in(*file, std::ios::binary);
  if (!in) return not_found();
  std::ostringstream body;
  body << in.rdbuf();
  const auto etag = entity_tag(body.view());
  const auto modified = last_modified(*file);
  // The client's copy is current: If-None-Match decides when sent; otherwise If-Modified-Since
  // holding exactly the date this file was last served with (what browsers send back).
  const auto none_match = ctx.request.header("if-none-match");
  const auto modified_since = ctx.request.header("if-modified-since");
  const bool current = none_match ? none_match_hits(*none_match, etag)
                                  : modified_since && !modified.empty() && *modified_since == modified;
  Response r;
  if (current) {
    r.status = 304;
  } else {
    r = text_response(200, body.str(), content_type_for(*file));
  }
  // Revalidated on every use: file names carry no version, so a cached copy may never be trusted
  // blindly, and an unchanged file costs a 304 without a body.
  r.set_header("Cache-Control", "no-cache");
  r.set_header("ETag", etag);
  if (!modified.empty()) r.set_header("Last-Modified", modified);
  set_page_headers(r, section);
  return r;
}

}  // namespace handlers
}  // namespace herald::http

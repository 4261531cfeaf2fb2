// Operations endpoints (liveness, readiness, metrics, the OpenAPI document) and static pages.
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

Response static_file(Context& ctx) {
  const auto& rest = ctx.param("*");
  auto path = ctx.request.path();
  auto section = path.substr(1, path.find('/', 1) - 1);  // "portal" or "admin"
  // "/portal" must become "/portal/" or the page's relative links resolve one level too high.
  if (rest.empty() && path.back() != '/') {
    Response r;
    r.status = 301;
    r.set_header("Location", "/" + std::string(section) + "/");
    return r;
  }
  auto file = resolve_static(ctx.config.web_root, std::string(section) + "/" + rest);
  if (!file) return error_response(ErrorKind::not_found, "not_found", "no such page");
  std::ifstream in(*file, std::ios::binary);
  if (!in) return error_response(ErrorKind::not_found, "not_found", "no such page");
  std::ostringstream body;
  body << in.rdbuf();
  auto r = text_response(200, body.str(), content_type_for(*file));
  r.set_header("Cache-Control", "no-cache");
  r.set_header("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace handlers
}  // namespace herald::http

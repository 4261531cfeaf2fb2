// handle_request: the route table, authentication, and the one place infrastructure failures
// become 503/500.
#include "herald/http/api.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <vector>

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include "handlers.hpp"
#include "herald/domain/json_io.hpp"
#include "herald/domain/metrics.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/http/router.hpp"
#include "herald/rules/clock.hpp"
#include "herald/store/api_keys.hpp"
#include "herald/store/db.hpp"

namespace herald::http {

Result<Json> Context::json_body() const {
  auto type = request.header("content-type").value_or("");
  auto media = type.substr(0, type.find(';'));
  media.erase(std::remove_if(media.begin(), media.end(), [](unsigned char c) { return std::isspace(c); }), media.end());
  std::transform(media.begin(), media.end(), media.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (media != "application/json")
    return ApiError{ErrorKind::unsupported_media_type, "unsupported_media_type", "Content-Type must be application/json", ""};
  return parse_json_body(request.body, config.json_max_depth);
}

namespace {

struct RouteSpec {
  const char* method;
  const char* pattern;
  Access access;
  Handler handler;
};

// Every route of the API. The {id} parameter of customer_or_staff routes names the customer.
const RouteSpec kRoutes[] = {
    {"GET", "/livez", Access::open, handlers::livez},
    {"GET", "/readyz", Access::open, handlers::readyz},
    {"GET", "/metrics", Access::open, handlers::metrics},
    {"GET", "/v1/openapi.json", Access::open, handlers::openapi},

    {"PUT", "/v1/customers/{id}", Access::cis_or_admin, handlers::put_customer},
    {"GET", "/v1/customers/{id}", Access::customer_or_staff, handlers::get_customer},
    {"POST", "/v1/customers/{id}/portal-tokens", Access::cis_or_admin, handlers::create_portal_token},
    {"GET", "/v1/customers/{id}/preferences", Access::customer_or_staff, handlers::get_preferences},
    {"PUT", "/v1/customers/{id}/preferences", Access::customer_or_staff, handlers::put_preferences},
    {"POST", "/v1/customers/{id}/contacts", Access::customer_or_staff, handlers::post_contact},
    {"POST", "/v1/customers/{id}/contacts/verify", Access::customer_or_staff, handlers::verify_contact},
    {"DELETE", "/v1/customers/{id}/contacts/{channel}/{address}", Access::customer_or_staff, handlers::delete_contact},
    {"GET", "/v1/customers/{id}/consent", Access::customer_or_staff, handlers::get_consent},

    {"POST", "/v1/customers/batch", Access::cis_or_admin, handlers::post_customer_batch},

    {"POST", "/v1/events", Access::cis_or_admin, handlers::post_event},
    {"POST", "/v1/events/batch", Access::cis_or_admin, handlers::post_event_batch},
    {"GET", "/v1/events/{event_id}", Access::cis_or_admin, handlers::get_event},

    {"POST", "/v1/outage-reports", Access::cis_or_admin, handlers::post_outage_report},
    {"GET", "/v1/outage-reports", Access::cis_or_admin, handlers::list_outage_reports},

    {"GET", "/v1/messages", Access::admin, handlers::list_messages},
    {"GET", "/v1/messages/{message_id}", Access::admin, handlers::get_message},
    {"GET", "/v1/reports/volume", Access::admin, handlers::volume_report},
    {"GET", "/v1/reports/engagement", Access::admin, handlers::engagement_report},
    {"GET", "/v1/inbound", Access::admin, handlers::list_inbound},

    {"GET", "/v1/customers", Access::admin, handlers::search_customers},
    {"GET", "/v1/reports/gateways", Access::admin, handlers::gateway_report},

    {"POST", "/v1/webhooks/twilio/status", Access::open, handlers::twilio_status},
    {"POST", "/v1/webhooks/twilio/sms", Access::open, handlers::twilio_sms},
    {"POST", "/v1/webhooks/twilio/voice", Access::open, handlers::twilio_voice},
    {"GET", "/v1/unsubscribe/{token}", Access::open, handlers::unsubscribe_page},
    {"POST", "/v1/unsubscribe/{token}", Access::open, handlers::unsubscribe_confirm},

    {"GET", "/v1/webhooks/kannel/dlr", Access::open, handlers::kannel_dlr},
    {"GET", "/v1/webhooks/kannel/mo", Access::open, handlers::kannel_mo},

    {"GET", "/portal/*", Access::open, handlers::static_file},
    {"GET", "/admin/*", Access::open, handlers::static_file},
    {"GET", "/vendor/*", Access::open, handlers::static_file},
};

// Names an API key in the rate limiter without keeping the key itself in memory.
std::string key_id(const std::string& key) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), md);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// What answers before the database has been reached: health, metrics and the API description.
bool serves_while_starting(Handler h) {
  return h == handlers::livez || h == handlers::readyz || h == handlers::metrics || h == handlers::openapi;
}

// Methods outside this set are counted as "other" so clients cannot grow the metric's labels.
std::string method_label(const std::string& m) {
  static const char* kKnown[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  for (auto* k : kKnown)
    if (m == k) return m;
  return "other";
}

}  // namespace

std::vector<std::pair<std::string, std::string>> api_routes() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : kRoutes) out.emplace_back(r.method, r.pattern);
  return out;
}

struct Api::Impl {
  Impl(const ServerConfig& c, const Services& s)
      : config(c),
        services(s),
        authenticator(
            [&db = s.db](const std::string& key) -> std::optional<Authenticator::KeyInfo> {
              auto role = store::role_for_api_key(db, key);
              if (!role) return std::nullopt;
              return Authenticator::KeyInfo{*role, ""};
            },
            [this](const std::string& token) { return verify_token(token, services.token_secret.value, services.clock.now()); }) {
    for (const auto& r : kRoutes) router.add(r.method, r.pattern);
  }

  const ServerConfig& config;
  const Services& services;
  Router router;
  Authenticator authenticator;
  RateLimiter limiter;

  std::optional<Response> rate_limited(const Context& ctx, Handler handler);

  Response dispatch(const Request& request, std::string& route_label, const std::atomic<bool>& draining,
                    const std::atomic<bool>& starting);
  bool database_reachable() {
    try {
      return services.db.ping();
    } catch (...) {
      return false;
    }
  }
};

Api::Api(const ServerConfig& config, const Services& services) : impl_(std::make_unique<Impl>(config, services)) {}
Api::~Api() = default;

Response Api::Impl::dispatch(const Request& request, std::string& route_label, const std::atomic<bool>& draining,
                             const std::atomic<bool>& starting) {
  auto found = router.lookup(request.method, request.path());
  if (!found.match) {
    if (found.status == 405) {
      std::string allow;
      for (const auto& m : found.allow) allow += (allow.empty() ? "" : ", ") + m;
      auto r = error_response(ErrorKind::method_not_allowed, "method_not_allowed",
                              request.method + " is not allowed here");
      r.set_header("Allow", allow);
      return r;
    }
    return error_response(ErrorKind::not_found, "not_found", "no such resource");
  }
  const auto& route = kRoutes[found.match->index];
  route_label = route.pattern;
  if (starting.load(std::memory_order_acquire) && !serves_while_starting(route.handler)) {
    auto r = error_response(ErrorKind::unavailable, "unavailable", "starting: waiting for the database; try again later");
    r.set_header("Retry-After", "5");
    return r;
  }

  Context ctx{request, found.match->params, parse_query(request.query_string()), std::nullopt, config, services};
  ctx.now = services.clock.now();
  ctx.draining = draining.load();
  if (route.access != Access::open) {
    if (auto token = bearer_token(request.header("authorization"))) ctx.who = authenticator.authenticate(*token);
    auto id = found.match->params.find("id");
    if (auto denied = authorize(route.access, ctx.who, id == found.match->params.end() ? "" : id->second))
      return error_response(*denied);
    if (auto refused = rate_limited(ctx, route.handler)) return std::move(*refused);
    if (auto bad = reject_unstorable_parameters(ctx)) return error_response(*bad);
  }
  return route.handler(ctx);
}

// Each caller's own bucket for its role; revealing addresses and minting portal tokens draw
// on a second, tighter bucket as well.
std::optional<Response> Api::Impl::rate_limited(const Context& ctx, Handler handler) {
  const auto& who = *ctx.who;
  const auto& limits = config.rate_limits;
  const bool customer = who.role == Role::customer;
  const std::string caller = customer ? who.customer_id : key_id(bearer_token(ctx.request.header("authorization")).value_or(""));
  std::vector<std::pair<std::string, const RateLimit*>> checks;
  checks.emplace_back(std::string(to_string(who.role)),
                      customer ? &limits.customer : who.role == Role::admin ? &limits.admin : &limits.cis);
  const auto reveal = ctx.query_value("reveal");
  const bool reveals = handler == handlers::list_messages || handler == handlers::get_message ||
                       handler == handlers::search_customers || handler == handlers::list_inbound;
  if (reveals && (reveal == "1" || reveal == "true"))
    checks.emplace_back("reveal", &limits.reveal);
  if (handler == handlers::create_portal_token) checks.emplace_back("portal_token", &limits.portal_token);

  for (const auto& [name, limit] : checks) {
    auto wait = limiter.admit(name + ":" + caller, *limit, ctx.now);
    if (!wait) continue;
    metrics::Registry::global()
        .counter("herald_http_rate_limited_total", "Requests refused with 429, by limit", {{"limit", name}})
        .inc();
    auto r = error_response(ErrorKind::rate_limited, "rate_limited",
                            "too many requests for this " + std::string(customer ? "customer token" : "API key") +
                                " (" + name + " limit); retry later");
    r.set_header("Retry-After", std::to_string(retry_after_seconds(*wait)));
    return r;
  }
  return std::nullopt;
}

Response Api::handle(const Request& request) {
  const auto started = std::chrono::steady_clock::now();
  std::string route_label = "unmatched";
  Response response;
  try {
    response = impl_->dispatch(request, route_label, draining_, starting_);
  } catch (const std::exception& e) {
    // Nothing a client sends reaches here: only the database or a bug. Which one decides
    // between "try again later" and "our fault"; neither shows the client any detail.
    if (!impl_->database_reachable()) {
      spdlog::warn("http: {} {} failed, database unreachable: {}", request.method, route_label, e.what());
      response = error_response(ErrorKind::unavailable, "unavailable", "the database is unreachable; try again later");
      response.set_header("Retry-After", "5");
    } else {
      spdlog::error("http: {} {} failed: {}", request.method, route_label, e.what());
      response = json_response(500, Json{{"error", {{"code", "internal"}, {"message", "internal error"}}}});
    }
  } catch (...) {
    spdlog::error("http: {} {} failed with a non-standard exception", request.method, route_label);
    response = json_response(500, Json{{"error", {{"code", "internal"}, {"message", "internal error"}}}});
  }

  auto& registry = metrics::Registry::global();
  registry
      .counter("herald_http_requests_total", "HTTP requests by route, method and status code",
               {{"route", route_label}, {"method", method_label(request.method)}, {"code", std::to_string(response.status)}})
      .inc();
  registry.histogram("herald_http_request_seconds", "HTTP request handling time in seconds", {{"route", route_label}})
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return response;
}

}  // namespace herald::http

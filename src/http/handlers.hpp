// HTTP-internal: what a handler gets (request, path params, caller, services) and the handlers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "herald/http/auth.hpp"
#include "herald/http/message.hpp"
#include "herald/http/server.hpp"

namespace herald::http {

struct Context {
  const Request& request;
  const std::map<std::string, std::string>& params;  // from the path pattern
  std::map<std::string, std::string> query;
  std::optional<Principal> who;
  const ServerConfig& config;
  const Services& services;
  TimePoint now{};
  bool draining = false;

  const std::string& param(const std::string& name) const { return params.at(name); }
  std::string query_value(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string{} : it->second;
  }
  // The body as JSON: 415 unless Content-Type is application/json, 400 when malformed or
  // nested deeper than config.json_max_depth.
  Result<Json> json_body() const;
  std::string actor() const { return who ? who->actor() : std::string("anonymous"); }
};

using Handler = Response (*)(Context&);

// Query parameters several handlers share (handler_params.cpp); each error names its parameter.
// An optional RFC 3339 time: nullopt inside when absent.
Result<std::optional<TimePoint>> time_param(const Context& ctx, const std::string& name);
// from/to of a list: either may be absent; when both are given from must come before to.
struct TimeFilter {
  std::optional<TimePoint> from;
  std::optional<TimePoint> to;
};
Result<TimeFilter> time_filter(const Context& ctx);
// from/to of a report: to defaults to now and from to `span` before to; from must come before to.
struct TimeRange {
  TimePoint from;
  TimePoint to;
};
Result<TimeRange> report_range(const Context& ctx, std::chrono::hours span = std::chrono::hours(24 * 7));
// limit: 50 when absent, otherwise an integer from 1 to 500.
Result<int> page_limit(const Context& ctx);
// The page of a list newest first: limit, and the cursor this server issued (the id to start below).
struct PageParams {
  int limit = 50;
  std::optional<std::int64_t> before_id;  // absent from the newest
};
Result<PageParams> page_params(const Context& ctx);
// A list's from/to and page into its filter (fields from, to, limit, before_id); the error
// names the parameter at fault.
template <class Filter>
std::optional<ApiError> read_list_window(const Context& ctx, Filter& f) {
  auto times = time_filter(ctx);
  if (!times) return times.error();
  auto page = page_params(ctx);
  if (!page) return page.error();
  f.from = times->from;
  f.to = times->to;
  f.limit = page->limit;
  f.before_id = page->before_id.value_or(0);
  return std::nullopt;
}
// The first path or query parameter that could not be stored or looked up (not UTF-8, or
// holding a NUL), as an error naming it. The router checks every authenticated request; open
// routes (webhooks) call it after checking their own credential, so a bad token is a 403 first.
std::optional<ApiError> reject_unstorable_parameters(const Context& ctx);
// The same for the fields of a provider's form post (checked after its signature).
std::optional<ApiError> reject_unstorable_form(const std::vector<std::pair<std::string, std::string>>& fields);

namespace handlers {

// The [voice] settings heraldd runs with, or the built-in ones (English and Spanish, redials).
const gateways::VoiceSettings& voice_settings(const Context& ctx);

// ops (no auth)
Response livez(Context&);
Response readyz(Context&);
Response metrics(Context&);
Response openapi(Context&);
Response static_file(Context&);  // /portal/*, /admin/* and /vendor/* (the pages' libraries)

// customers (cis | admin), preferences (the customer itself | cis | admin)
Response put_customer(Context&);
Response get_customer(Context&);
Response create_portal_token(Context&);
Response get_preferences(Context&);
Response put_preferences(Context&);

// up to 1000 customers at once (cis | admin)
Response post_customer_batch(Context&);

// contacts added on the web and consent history (the customer itself | cis | admin)
Response post_contact(Context&);
Response verify_contact(Context&);
Response delete_contact(Context&);
Response get_consent(Context&);

// events (cis | admin)
Response post_event(Context&);
Response post_event_batch(Context&);
Response get_event(Context&);

// outages (cis | admin)
Response put_outage(Context&);
Response get_outage(Context&);
Response list_outages(Context&);
// outage reports (cis | admin): handlers_outage_reports.cpp
Response post_outage_report(Context&);
Response list_outage_reports(Context&);

// admin
Response list_messages(Context&);
Response get_message(Context&);
Response volume_report(Context&);
Response engagement_report(Context&);  // handlers_engagement.cpp
Response list_inbound(Context&);

// admin console reads
Response search_customers(Context&);
Response gateway_report(Context&);

// providers and public links (their own credentials)
// True when X-Twilio-Signature verifies, over the URL Twilio called and the POST parameters, with
// one of the configured Twilio auth tokens (handlers_public.cpp).
bool twilio_signed(const Context& ctx, const std::vector<std::pair<std::string, std::string>>& params);
Response twilio_status(Context&);
Response twilio_sms(Context&);
Response twilio_voice(Context&);  // handlers_voice.cpp: a call's TwiML and the keys pressed
Response unsubscribe_page(Context&);
Response unsubscribe_confirm(Context&);

// Kannel's smsbox (the shared webhook_token of a kannel gateway in the query)
Response kannel_dlr(Context&);
Response kannel_mo(Context&);

}  // namespace handlers
}  // namespace herald::http

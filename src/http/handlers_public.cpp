// Endpoints with their own credential: Twilio status callbacks (texts and calls) and inbound SMS (signature) and
// the one-click unsubscribe links (signed token).
#include <spdlog/spdlog.h>

#include "handlers.hpp"
#include "herald/domain/phone.hpp"
#include "herald/domain/signed_token.hpp"
#include "herald/domain/text.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/gateways/encoding.hpp"
#include "herald/gateways/twilio.hpp"
#include "herald/gateways/twilio_voice.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/decide.hpp"
#include "herald/rules/redial.hpp"
#include "herald/store/consent.hpp"
#include "herald/store/receipts.hpp"

namespace herald::http::handlers {

namespace {

// Twilio's MessageStatus as the status it moves a message to. Interim states (queued,
// sending, ...) rank below "sent", so recording them never moves a sent message backwards.
MessageStatus from_twilio_status(std::string_view s) {
  if (s == "sent") return MessageStatus::sent;
  if (s == "delivered" || s == "read") return MessageStatus::delivered;
  if (s == "undelivered") return MessageStatus::undelivered;
  if (s == "failed" || s == "canceled") return MessageStatus::failed;
  return MessageStatus::queued;
}

std::string form_value(const gateways::FormParams& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

// The URL Twilio signed is the one it called: our public base URL plus the request target.
std::vector<std::string> signed_url_candidates(const Context& ctx) {
  std::vector<std::string> urls;
  if (!ctx.services.public_urls.base.empty()) {
    auto base = ctx.services.public_urls.base;
    while (!base.empty() && base.back() == '/') base.pop_back();
    urls.push_back(base + ctx.request.target);
  } else if (auto host = ctx.request.header("host")) {
    // No configured public URL: trust only what the signature covers, under either scheme.
    urls.push_back("https://" + *host + ctx.request.target);
    urls.push_back("http://" + *host + ctx.request.target);
  }
  return urls;
}

Response html_page(int status, std::string_view title, const std::string& inner_html) {
  std::string body =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" + html_escape(title) + "</title>"
      "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
      "button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}</style></head><body>\n" +
      inner_html + "\n</body></html>\n";
  auto r = text_response(status, std::move(body), "text/html; charset=utf-8");
  r.set_header("Cache-Control", "no-store");
  r.set_header("X-Frame-Options", "DENY");
  r.set_header("Referrer-Policy", "no-referrer");
  return r;
}

struct UnsubscribeClaims {
  Channel channel;
  std::string address;
  Topic topic;
};

std::optional<UnsubscribeClaims> unsubscribe_claims(const Context& ctx) {
  auto claims = verify_token(ctx.param("token"), ctx.services.token_secret.value, ctx.services.clock.now());
  if (!claims || !claims->is_object()) return std::nullopt;
  const auto& c = *claims;
  auto text = [&c](const char* key) -> std::string {
    auto it = c.find(key);
    return it != c.end() && it->is_string() ? it->get<std::string>() : std::string{};
  };
  auto channel = parse_channel(text("ch"));
  auto topic = parse_topic(text("t"));
  auto address = text("a");
  if (!channel || !topic || address.empty()) return std::nullopt;
  return UnsubscribeClaims{*channel, std::move(address), *topic};
}

Response link_not_found() {
  return html_page(404, "Link not valid",
                   "<h1>This link is not valid</h1><p>It may have expired. Use the preference center or the "
                   "latest message you received to manage your notifications.</p>");
}

std::string describe(const UnsubscribeClaims& u) {
  return std::string(to_string(u.topic)) + " messages by " + std::string(to_string(u.channel)) + " to " +
         mask_address(u.address);
}

}  // namespace

bool twilio_signed(const Context& ctx, const gateways::FormParams& params) {
  const auto signature = ctx.request.header("x-twilio-signature").value_or("");
  if (signature.empty()) return false;
  for (const auto& url : signed_url_candidates(ctx)) {
    for (const auto& token : ctx.services.twilio_auth_tokens) {
      if (!token.empty() && gateways::verify_twilio_signature(token, url, params, signature)) return true;
    }
  }
  return false;
}

namespace {

// A call that rang busy or went unanswered is placed again later (within the message's life,
// the send window and quiet hours), up to [voice] redial_attempts more times.
store::RedialRule redial_rule(const Context& ctx) {
  const auto& voice = voice_settings(ctx);
  const rules::RedialPolicy policy{voice.redial_attempts, Seconds(voice.redial_after_seconds)};
  return {ctx.services.rules.default_preferences.quiet_hours,
          [policy, window = ctx.services.rules.window, now = ctx.now](const UnansweredCall& call) {
            return rules::redial_time(call, policy, window, now);
          }};
}

}  // namespace

Response twilio_status(Context& ctx) {
  const auto params = gateways::parse_form(ctx.request.body);
  if (!twilio_signed(ctx, params)) {
    spdlog::warn("http: twilio status callback with a bad or missing signature from {}", ctx.request.remote);
    return error_response(ErrorKind::forbidden, "invalid_signature", "X-Twilio-Signature does not verify");
  }

  // Every field is kept with the receipt (as JSON), so each must be text Postgres can store.
  if (auto bad = reject_unstorable_form(params)) return error_response(*bad);
  auto sid = form_value(params, "MessageSid");
  auto status_text = form_value(params, "MessageStatus");
  if (status_text.empty()) status_text = form_value(params, "SmsStatus");
  // A call's status callback (a voice message; its provider id is the CallSid) comes here too.
  const bool call = sid.empty() && !form_value(params, "CallSid").empty();
  if (call) {
    sid = form_value(params, "CallSid");
    status_text = form_value(params, "CallStatus");
  }
  if (sid.empty() || status_text.empty())
    return error_response(invalid("MessageSid", "missing_field",
                                  "MessageSid and MessageStatus (or CallSid and CallStatus) are required"));

  Json raw = Json::object();
  for (const auto& [k, v] : params) raw[k] = v;
  const auto status = call ? gateways::message_status_of_call(status_text) : from_twilio_status(status_text);
  auto error_code = form_value(params, "ErrorCode");
  // busy and no-answer carry no ErrorCode: the status itself says why the call did not deliver.
  if (call && error_code.empty() && (status == MessageStatus::undelivered || status == MessageStatus::failed))
    error_code = status_text;
  const bool unanswered = call && (status_text == "busy" || status_text == "no-answer");
  const auto redial = unanswered ? std::optional(redial_rule(ctx)) : std::nullopt;
  const auto outcome = store::apply_delivery_receipt(ctx.services.db, sid, status, error_code, raw, ctx.now,
                                                     redial ? &*redial : nullptr);
  if (outcome.redial_at)
    spdlog::info("http: voice message {} unanswered ({} call(s)); calling again at {}", outcome.message_id,
                 outcome.unanswered_calls, format_time(*outcome.redial_at));
  if (!outcome.matched) spdlog::info("http: twilio status {} for unknown message sid {}", status_text, sid);
  // Twilio only needs a 2xx; an unknown sid is not its problem to retry.
  Response r;
  r.status = 204;
  return r;
}

// An SMS to one of our Twilio numbers. The reply (if any) goes back as TwiML in this response,
// so Twilio sends it from the number the customer texted.
Response twilio_sms(Context& ctx) {
  const auto params = gateways::parse_form(ctx.request.body);
  if (!twilio_signed(ctx, params)) {
    spdlog::warn("http: twilio inbound sms with a bad or missing signature from {}", ctx.request.remote);
    return error_response(ErrorKind::forbidden, "invalid_signature", "X-Twilio-Signature does not verify");
  }
  if (!ctx.services.inbound) {
    auto r = error_response(ErrorKind::unavailable, "unavailable", "inbound messages are not handled by this instance");
    r.set_header("Retry-After", "5");
    return r;
  }
  engine::InboundSms sms;
  sms.provider = "twilio";
  sms.provider_message_id = form_value(params, "MessageSid");
  if (sms.provider_message_id.empty()) sms.provider_message_id = form_value(params, "SmsMessageSid");
  sms.from = form_value(params, "From");
  sms.to = form_value(params, "To");
  sms.body = form_value(params, "Body");
  if (auto bad = reject_unstorable_form(params)) return error_response(*bad);
  if (sms.from.empty()) return error_response(invalid("From", "missing_field", "From is required"));
  const auto result = ctx.services.inbound->handle(sms);
  std::string twiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  twiml += result.reply.empty() ? "<Response></Response>" : "<Response><Message>" + xml_escape(result.reply) + "</Message></Response>";
  return text_response(200, std::move(twiml), "text/xml; charset=utf-8");
}

Response unsubscribe_page(Context& ctx) {
  auto u = unsubscribe_claims(ctx);
  if (!u) return link_not_found();
  const auto action = "/v1/unsubscribe/" + html_escape(ctx.param("token"));
  return html_page(200, "Unsubscribe",
                   "<h1>Unsubscribe</h1><p>Stop " + html_escape(describe(*u)) +
                       "?</p><p>Other notifications are not affected. Regulatory notices (for example about "
                       "disconnection) may still be sent as the law requires.</p>"
                       "<form method=\"post\" action=\"" + action +
                       "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                       "<button type=\"submit\">Unsubscribe</button></form>");
}

Response unsubscribe_confirm(Context& ctx) {
  // RFC 8058 clients post "List-Unsubscribe=One-Click"; the token alone carries the authority.
  auto u = unsubscribe_claims(ctx);
  if (!u) return link_not_found();
  const auto& token = ctx.param("token");
  store::unsubscribe_topic(ctx.services.db, u->channel, u->address, u->topic, "token:" + token.substr(0, 16),
                           ctx.now);
  return html_page(200, "Unsubscribed",
                   "<h1>You are unsubscribed</h1><p>You will no longer receive " + html_escape(describe(*u)) +
                       ".</p><p>You can turn them back on in the preference center.</p>");
}

}  // namespace herald::http::handlers

// POST /v1/webhooks/twilio/voice: what a call says (TwiML) and the keys the customer presses.
//
// Twilio fetches the TwiML once the call is answered (?message=<id>, the voice message it
// delivers), with AnsweredBy when machine detection ran. A person hears the message and, when
// its type declares replies that can be keyed, the prompts inside a <Gather>; the keys come back
// here (?message=<id>&gather=<round>, Digits) and go through the inbound pipeline like a text
// from that number, answering the conversation the call opened. A machine gets the message as a
// voicemail. Every request is signed (X-Twilio-Signature over the URL with its query).
#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include "handlers.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/gateways/encoding.hpp"
#include "herald/gateways/twilio_voice.hpp"
#include "herald/rules/decide.hpp"
#include "herald/store/inbound.hpp"

namespace herald::http::handlers {

namespace {

std::string form_value(const gateways::FormParams& params, std::string_view name) {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

std::optional<std::int64_t> positive_integer(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

Response twiml(std::string body) { return text_response(200, std::move(body), "text/xml; charset=utf-8"); }

}  // namespace

const gateways::VoiceSettings& voice_settings(const Context& ctx) {
  static const gateways::VoiceSettings kBuiltIn = gateways::default_voice_settings();
  return ctx.services.voice ? *ctx.services.voice : kBuiltIn;
}

Response twilio_voice(Context& ctx) {
  const auto params = gateways::parse_form(ctx.request.body);
  if (!twilio_signed(ctx, params)) {
    spdlog::warn("http: twilio voice request with a bad or missing signature from {}", ctx.request.remote);
    return error_response(ErrorKind::forbidden, "invalid_signature", "X-Twilio-Signature does not verify");
  }
  if (auto bad = reject_unstorable_parameters(ctx)) return error_response(*bad);
  if (auto bad = reject_unstorable_form(params)) return error_response(*bad);
  const auto message_id = positive_integer(ctx.query_value("message"));
  if (!message_id) return error_response(invalid("message", "invalid_parameter", "message must be a message id"));
  const auto round_text = ctx.query_value("gather");
  const auto round = round_text.empty() ? std::optional<std::int64_t>(0) : positive_integer(round_text);
  if (!round) return error_response(invalid("gather", "invalid_parameter", "gather must be a positive whole number"));

  const auto message = store::call_message(ctx.services.db, *message_id);
  if (!message) return error_response(ErrorKind::not_found, "not_found", "no voice message with this id");

  const auto& voice = voice_settings(ctx);
  gateways::CallScript script;
  script.body = message->body;
  script.speech = gateways::speech_for(voice, message->language);
  script.texts = gateways::texts_for(voice, message->language);
  script.gather_timeout_seconds = voice.gather_timeout_seconds;
  script.gather_action = ctx.services.public_urls.twilio_voice() + "?message=" + std::to_string(*message_id) +
                         "&gather=" + std::to_string(*round + 1);
  const auto& conversations = ctx.services.rules.conversations;
  const auto spec = conversations.find(message->type);
  const Json expected = spec == conversations.end() ? Json::object() : rules::expected_json(spec->second.replies);
  script.choices = gateways::keyed_choices(expected);

  const bool keys_pressed = std::any_of(params.begin(), params.end(), [](const auto& p) { return p.first == "Digits"; });
  if (!keys_pressed) {
    switch (gateways::answerer_of(form_value(params, "AnsweredBy"))) {
      case gateways::Answerer::fax: return twiml(gateways::hangup_twiml());
      case gateways::Answerer::machine: return twiml(gateways::voicemail_twiml(script));
      case gateways::Answerer::person: break;
    }
    // Opened here, not when the call was placed: keys can only follow this TwiML (Twilio may
    // fetch it before the dispatcher has recorded the call as sent), and a call nobody answered,
    // or a voicemail, leaves no open conversation behind to catch a later reply.
    if (!script.choices.empty())
      store::open_call_conversation(ctx.services.db, *message_id, expected, spec->second.ttl, ctx.now);
    return twiml(gateways::person_twiml(script));
  }

  if (!ctx.services.inbound) {
    auto r = error_response(ErrorKind::unavailable, "unavailable", "inbound messages are not handled by this instance");
    r.set_header("Retry-After", "5");
    return r;
  }
  engine::InboundSms keys;
  keys.provider = "twilio";
  keys.channel = Channel::voice;
  keys.call_message_id = *message_id;
  const auto call_sid = form_value(params, "CallSid");
  if (call_sid.empty()) return error_response(invalid("CallSid", "missing_field", "CallSid is required"));
  // One round of keys per Gather: a replayed post of the same round is the same inbound message.
  keys.provider_message_id = call_sid + "/" + std::to_string(*round);
  keys.from = message->address;
  keys.to = form_value(params, "From");
  keys.body = form_value(params, "Digits");
  const auto result = ctx.services.inbound->handle(keys);
  if (!result.reply.empty()) return twiml(gateways::reply_twiml(script.speech, result.reply));
  if (*round <= voice.gather_rounds && !script.choices.empty()) return twiml(gateways::ask_again_twiml(script));
  return twiml(gateways::reply_twiml(script.speech, script.texts.goodbye));
}

}  // namespace herald::http::handlers

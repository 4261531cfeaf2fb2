// Kannel sendsms request building, answer classification and DLR types.
#include <openssl/crypto.h>

#include "herald/domain/sms_encoding.hpp"
#include "herald/gateways/encoding.hpp"
#include "herald/gateways/kannel.hpp"

namespace herald::gateways {
namespace {

// Provider text is logged and stored; a misbehaving server must not fill either.
std::string clipped(std::string_view s, std::size_t limit = 300) {
  std::string out(s.substr(0, limit));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// smsbox's answers to an accepted sendsms: "0: Accepted for delivery", "3: Queued for later
// delivery", or "Sent." from a smsbox that answers before bearerbox has acknowledged.
bool accepted_answer(std::string_view body) {
  return starts_with(body, "0:") || starts_with(body, "3:") || starts_with(body, "Sent.");
}

}  // namespace

std::string kannel_provider_id(std::int64_t message_id) { return "kannel-" + std::to_string(message_id); }

std::string kannel_dlr_url(const KannelSettings& settings, std::int64_t message_id) {
  // The token is URL-safe (the factory checks), so the only '%' in the URL are the two
  // escapes smsbox fills in.
  const char separator = settings.dlr_url.find('?') == std::string::npos ? '?' : '&';
  return settings.dlr_url + separator + "token=" + settings.webhook_token + "&id=" + std::to_string(message_id) +
         "&status=%d&reply=%A";
}

HttpRequest build_kannel_send(const KannelSettings& settings, const OutboundMessage& message) {
  FormParams query;
  query.emplace_back("username", settings.username);
  query.emplace_back("password", settings.password);
  if (!settings.from.empty()) query.emplace_back("from", settings.from);
  query.emplace_back("to", message.to);
  query.emplace_back("text", message.body);
  // Without a charset smsbox reads the text in its own default; UTF-8 is what Herald holds.
  query.emplace_back("charset", "UTF-8");
  // coding=2 is UCS-2: a character outside GSM 03.38 would otherwise be replaced on the way.
  if (sms_encoding(message.body).encoding != "GSM-7") query.emplace_back("coding", "2");
  if (!settings.dlr_url.empty() && settings.dlr_mask > 0) {
    query.emplace_back("dlr-mask", std::to_string(settings.dlr_mask));
    query.emplace_back("dlr-url", kannel_dlr_url(settings, message.id));
  }

  HttpRequest request;
  request.method = "GET";
  request.url = settings.url + (settings.url.find('?') == std::string::npos ? '?' : '&') + form_urlencode(query);
  if (!message.idempotency_key.empty()) request.headers.emplace_back("Idempotency-Key", message.idempotency_key);
  return request;
}

SendResult parse_kannel_send(const OutboundMessage& message, int status, std::string_view body) {
  SendResult result;
  result.http_status = status;
  result.detail = clipped(body);
  if (status == 200 || status == 202) {
    if (accepted_answer(body)) {
      result.outcome = SendOutcome::sent;
      result.provider_id = kannel_provider_id(message.id);
    } else {
      // Accepted or not, we cannot tell: at-least-once says send again.
      result.outcome = SendOutcome::retry;
      result.error_code = "unparsable_response";
    }
    return result;
  }
  result.error_code = "kannel_" + std::to_string(status);
  if (status == 403 && starts_with(body, "Authorization failed")) {
    // Wrong username or password is the gateway's fault: retry, then fail over.
    result.outcome = SendOutcome::retry;
    result.error_code = "kannel_authorization_failed";
    return result;
  }
  if (status >= 400 && status < 500) {
    // 403: "Not routable. Do not try again."; 400: a field smsbox rejects (text, number).
    result.outcome = SendOutcome::failed;
    if (status == 403) result.error_code = "kannel_not_routable";
    return result;
  }
  // 503 "Temporal failure, try again later.", 500 "Sending failed.", and anything else.
  result.outcome = SendOutcome::retry;
  return result;
}

std::optional<MessageStatus> kannel_dlr_status(int dlr_type) {
  switch (dlr_type) {
    case 1: return MessageStatus::delivered;
    case 2: return MessageStatus::undelivered;
    case 4: return MessageStatus::queued;
    case 8: return MessageStatus::sent;
    case 16: return MessageStatus::failed;
    default: return std::nullopt;
  }
}

bool kannel_token_matches(std::string_view expected, std::string_view given) {
  return !expected.empty() && expected.size() == given.size() &&
         CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

}  // namespace herald::gateways

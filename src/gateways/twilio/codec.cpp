// Twilio send request building and response classification.
#include <string>

#include "herald/gateways/twilio.hpp"

namespace herald::gateways {
namespace {

std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Twilio's error code as text: an integer in the JSON, occasionally a string.
std::string error_code_of(const Json& body) {
  if (!body.is_object()) return {};
  auto it = body.find("code");
  if (it == body.end()) return {};
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  if (it->is_string()) return it->get<std::string>();
  return {};
}

std::string message_of(const Json& body) {
  if (!body.is_object()) return {};
  auto it = body.find("message");
  return it != body.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// Provider text is logged and stored; a misbehaving server must not fill either.
std::string clipped(std::string_view s, std::size_t limit = 300) {
  return std::string(s.substr(0, limit));
}

}  // namespace

HttpRequest build_twilio_send(const TwilioSettings& settings, const OutboundMessage& message) {
  FormParams form;
  form.emplace_back("To", message.to);
  if (!settings.messaging_service_sid.empty()) {
    form.emplace_back("MessagingServiceSid", settings.messaging_service_sid);
  } else {
    form.emplace_back("From", settings.from);
  }
  form.emplace_back("Body", message.body);
  if (!message.status_callback_url.empty()) {
    form.emplace_back("StatusCallback", message.status_callback_url);
  }

  HttpRequest request;
  request.method = "POST";
  request.url = without_trailing_slash(settings.base_url) + "/2010-04-01/Accounts/" +
                settings.account_sid + "/Messages.json";
  request.headers = {
      {"Authorization", "Basic " + base64_encode(settings.account_sid + ":" + settings.auth_token)},
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
  };
  if (!message.idempotency_key.empty()) {
    request.headers.emplace_back("Idempotency-Key", message.idempotency_key);
  }
  request.body = form_urlencode(form);
  return request;
}

SendResult parse_twilio_send(int status, const HttpHeaders& headers, std::string_view body,
                             TimePoint now) {
  SendResult result;
  result.http_status = status;
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  const bool parsed = !json.is_discarded() && json.is_object();

  if (status == 200 || status == 201) {
    auto sid = parsed ? json.find("sid") : json.end();
    if (parsed && sid != json.end() && sid->is_string() && !sid->get<std::string>().empty()) {
      result.outcome = SendOutcome::sent;
      result.provider_id = sid->get<std::string>();
    } else {
      // Accepted or not, we cannot tell: at-least-once says send again.
      result.outcome = SendOutcome::retry;
      result.error_code = "unparsable_response";
      result.detail = clipped(body);
    }
    return result;
  }

  result.error_code = parsed ? error_code_of(json) : std::string{};
  result.detail = parsed ? clipped(message_of(json)) : clipped(body);
  if (result.error_code.empty()) result.error_code = "http_" + std::to_string(status);

  if (status == 429 || status >= 500) {
    result.outcome = SendOutcome::retry;
    if (auto value = find_header(headers, "Retry-After")) {
      result.retry_after = parse_retry_after(*value, now);
    }
    return result;
  }
  if (status == 401) {
    result.outcome = SendOutcome::retry;
    return result;
  }
  if (status >= 400 && status < 500) {
    if (!parsed) {
      result.outcome = SendOutcome::retry;
      result.error_code = "unparsable_response";
      return result;
    }
    result.outcome = result.error_code == std::to_string(kTwilioOptedOutCode)
                         ? SendOutcome::opted_out
                         : SendOutcome::failed;
    return result;
  }
  // 1xx/3xx or anything else Twilio does not answer a send with.
  result.outcome = SendOutcome::retry;
  return result;
}

}  // namespace herald::gateways

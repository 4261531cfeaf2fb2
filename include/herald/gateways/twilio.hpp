// Twilio's Programmable Messaging wire format: the send request, its response, and the
// X-Twilio-Signature of webhooks. Pure functions; the transport is in src/gateways/twilio.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/gateways/encoding.hpp"
#include "herald/gateways/gateway.hpp"
#include "herald/gateways/transfer.hpp"

namespace herald::gateways {

struct TwilioSettings {
  std::string account_sid;
  std::string auth_token;
  std::string from;                   // sender number; or
  std::string messaging_service_sid;  // a messaging service (used when set)
  std::string base_url = "https://api.twilio.com";
  // Calls only: how Twilio tells a person from an answering machine (MachineDetection).
  std::string machine_detection = "DetectMessageEnd";
};

// Error code Twilio returns when the recipient replied STOP.
inline constexpr int kTwilioOptedOutCode = 21610;

// POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded To, From or
// MessagingServiceSid, Body, StatusCallback (when set); HTTP basic auth sid:token; the
// message's idempotency key as an Idempotency-Key header (Twilio ignores it; fakes and
// proxies can deduplicate on it).
HttpRequest build_twilio_send(const TwilioSettings& settings, const OutboundMessage& message);

// 200/201 with a "sid" → sent; 429 → retry (Retry-After honoured); 5xx → retry; 4xx with
// code 21610 → opted_out; 401 → retry (bad credentials are the gateway's fault, not the
// message's); other 4xx → failed with error_code = Twilio's code; anything unparsable → retry.
SendResult parse_twilio_send(int status, const HttpHeaders& headers, std::string_view body,
                             TimePoint now);

// base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + value2 ...)) with the POST
// parameters sorted by name (byte order).
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const FormParams& params);
// Constant-time comparison of the expected signature with the X-Twilio-Signature header.
bool verify_twilio_signature(std::string_view auth_token, std::string_view url,
                             const FormParams& params, std::string_view header_value);

}  // namespace herald::gateways

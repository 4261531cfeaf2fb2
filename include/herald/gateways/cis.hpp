// The CIS actions wire format: one signed JSON request per action (balance, payment,
// registration) and the three outcomes of its answer. Pure functions; engine/cis_actions sends.
#pragma once

#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/gateways/transfer.hpp"

namespace herald::gateways {

// The actions Herald asks a CIS to perform.
inline constexpr std::string_view kBalanceLookup = "balance.lookup";
inline constexpr std::string_view kPaymentAuthorize = "payment.authorize";
inline constexpr std::string_view kRegistrationLookup = "registration.lookup";

inline constexpr std::string_view kCisSignatureHeader = "X-Herald-Signature";
inline constexpr std::string_view kCisTimestampHeader = "X-Herald-Timestamp";
inline constexpr std::string_view kIdempotencyKeyHeader = "Idempotency-Key";

enum class CisOutcome {
  ok,           // the CIS did it (or had done it for this key) and answered with JSON
  declined,     // the CIS refused this request (4xx): card declined, unknown account, ...
  unavailable,  // no usable answer: timeout, refused connection, 408/429/5xx, unreadable 2xx
};
std::string_view to_string(CisOutcome o);

struct CisAnswer {
  CisOutcome outcome = CisOutcome::unavailable;
  Json data = Json::object();  // ok: the CIS's JSON object
  std::string reason;          // declined: the CIS's reason code; unavailable: timeout, connect, http_503, ...
  std::string detail;          // human text from the CIS or libcurl; never a secret
  long http_status = 0;        // 0 when no answer came
};

// POST actions_url with the JSON body
//   {"action": "payment.authorize", "idempotency_key": "...", "sent_at": "<RFC 3339>", "params": {...}}
// and the headers
//   Content-Type: application/json
//   Idempotency-Key: <key>                    the same on every retry of the action
//   X-Herald-Timestamp: <sent_at, unix seconds>
//   X-Herald-Signature: sha256=<lowercase hex HMAC-SHA256(secret, body bytes)>
// The signature covers the body and the body carries sent_at, so a receiver that checks the
// signature, that X-Herald-Timestamp equals sent_at and that it is recent (e.g. 5 minutes)
// refuses a captured request replayed later.
HttpRequest build_cis_request(std::string_view actions_url, std::string_view secret, std::string_view action,
                              std::string_view idempotency_key, const Json& params, TimePoint now);

// The signed request both the CIS actions and the OMS report forwards use: POST url with the
// JSON object `body` plus its "idempotency_key" and "sent_at" members, and the headers above.
HttpRequest build_signed_request(std::string_view url, std::string_view secret, std::string_view idempotency_key,
                                 Json body, TimePoint now);

// "sha256=" + lowercase hex HMAC-SHA256(secret, body).
std::string cis_signature(std::string_view secret, std::string_view body);
// Constant-time check of an X-Herald-Signature value against the body.
bool verify_cis_signature(std::string_view secret, std::string_view body, std::string_view header_value);

// 2xx with a JSON object -> ok; 408, 429, 5xx (and 1xx/3xx) -> unavailable ("http_<status>"); other 4xx ->
// declined, reason from {"reason": "..."} or {"error": {"code": "..."}} ("declined" when the
// body says nothing), detail from "message"; a transfer that did not complete -> unavailable
// with its error code (timeout, connect, ...); a 2xx whose body is not a JSON object ->
// unavailable "bad_response" (we cannot tell what the CIS did).
CisAnswer parse_cis_response(const TransferResponse& response);

}  // namespace herald::gateways

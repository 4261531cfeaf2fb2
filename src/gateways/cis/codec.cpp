// The CIS actions codec: the signed JSON request (shared with the OMS report forwards) and the
// reading of the CIS's answer.
#include "herald/gateways/cis.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>

namespace herald::gateways {

std::string_view to_string(CisOutcome o) {
  switch (o) {
    case CisOutcome::ok: return "ok";
    case CisOutcome::declined: return "declined";
    case CisOutcome::unavailable: return "unavailable";
  }
  return "unavailable";
}

std::string cis_signature(std::string_view secret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), digest, &digest_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < digest_len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

bool verify_cis_signature(std::string_view secret, std::string_view body, std::string_view header_value) {
  const std::string expected = cis_signature(secret, body);
  if (header_value.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), header_value.data(), expected.size()) == 0;
}

HttpRequest build_cis_request(std::string_view actions_url, std::string_view secret, std::string_view action,
                              std::string_view idempotency_key, const Json& params, TimePoint now) {
  return build_signed_request(actions_url, secret, idempotency_key,
                              Json{{"action", action}, {"params", params.is_null() ? Json::object() : params}}, now);
}

HttpRequest build_signed_request(std::string_view url, std::string_view secret, std::string_view idempotency_key,
                                 Json body, TimePoint now) {
  // Whole seconds: the header and the body name the same instant.
  const auto sent_at = std::chrono::floor<std::chrono::seconds>(now);
  body["idempotency_key"] = idempotency_key;
  body["sent_at"] = format_time(sent_at);
  HttpRequest r;
  r.method = "POST";
  r.url = std::string(url);
  r.body = body.dump();
  r.headers = {{"Content-Type", "application/json"},
               {"Accept", "application/json"},
               {std::string(kIdempotencyKeyHeader), std::string(idempotency_key)},
               {std::string(kCisTimestampHeader), std::to_string(sent_at.time_since_epoch().count())},
               {std::string(kCisSignatureHeader), cis_signature(secret, r.body)}};
  return r;
}

namespace {

std::string text_member(const Json& j, const char* name) {
  if (!j.is_object()) return {};
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

CisAnswer parse_cis_response(const TransferResponse& response) {
  CisAnswer a;
  a.http_status = response.status;
  if (!response.completed()) {
    a.reason = response.error_code.empty() ? "network" : response.error_code;
    a.detail = response.error;
    return a;
  }
  const long s = response.status;
  const Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (s >= 200 && s < 300) {
    if (!body.is_object()) {
      a.reason = "bad_response";
      a.detail = "the CIS answered " + std::to_string(s) + " without a JSON object";
      return a;
    }
    a.outcome = CisOutcome::ok;
    a.data = body;
    return a;
  }
  if (s == 408 || s == 429 || s >= 500 || s < 400) {
    a.reason = "http_" + std::to_string(s);
    a.detail = text_member(body, "message");
    return a;
  }
  a.outcome = CisOutcome::declined;
  a.data = body.is_object() ? body : Json::object();
  a.reason = text_member(body, "reason");
  if (a.reason.empty() && body.is_object() && body.contains("error")) a.reason = text_member(body["error"], "code");
  if (a.reason.empty()) a.reason = "declined";
  a.detail = text_member(body, "message");
  if (a.detail.empty() && body.is_object() && body.contains("error")) a.detail = text_member(body["error"], "message");
  return a;
}

}  // namespace herald::gateways

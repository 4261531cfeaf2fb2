// The Gateway interface every provider adapter implements, its value types and the factory.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"

namespace herald::gateways {

struct OutboundMessage {
  std::int64_t id = 0;
  Channel channel = Channel::sms;
  std::string to;  // E.164 for sms/voice, an email address for email
  std::string subject, body, html;
  std::string unsubscribe_url;      // email: List-Unsubscribe target (RFC 8058 one-click POST)
  std::string status_callback_url;  // sms, voice: where the provider posts status callbacks
  std::string voice_url;            // voice: where the provider fetches what the call says (TwiML)
  std::string idempotency_key;      // stable per message, e.g. "herald-<id>"
};

enum class SendOutcome {
  sent,       // the provider accepted the message
  retry,      // transient: try again later (network, timeout, 429, 5xx, SMTP 4xx)
  failed,     // permanent: the provider refused this message
  opted_out,  // permanent: the provider says the recipient opted out (Twilio 21610)
};
std::string_view to_string(SendOutcome o);

struct SendResult {
  SendOutcome outcome = SendOutcome::retry;
  std::string provider_id;  // Twilio message SID, email Message-ID, "log-<id>"
  int http_status = 0;      // HTTP status, or the SMTP reply code; 0 when no reply came
  std::string error_code;   // provider's code ("21211", "smtp_550") or "timeout", "connect", ...
  std::string detail;       // human text from the provider or libcurl; never a secret
  std::optional<std::chrono::seconds> retry_after;  // provider asked to wait this long
  double duration_ms = 0;
};

class Gateway {
 public:
  virtual ~Gateway();
  virtual const std::string& name() const = 0;
  virtual Channel channel() const = 0;
  // Sends every message concurrently and returns one result per message, in the same order.
  // Provider errors are results, never exceptions; network failures and timeouts are `retry`
  // results. One attempt per message per call: retrying is the caller's job. Blocking; safe to
  // call from several threads (calls on one gateway are serialized).
  virtual std::vector<SendResult> send_batch(const std::vector<OutboundMessage>& batch) = 0;
  // How many sends it has in flight at once (0: no limit). A caller that checks its leases
  // before each call hands it no more than this, so that no send of the call starts long
  // after the check (a transport queues what exceeds its concurrency).
  virtual std::size_t max_concurrent() const { return 0; }
};

// Settings values are strings (numbers as decimal text). Keys per type:
//   log:    (none)
//   twilio: account_sid, auth_token, from | messaging_service_sid, base_url
//           (default https://api.twilio.com), timeout_ms (10000), max_concurrent (64), ca_file;
//           on channel voice (calls): from required, no messaging_service_sid, and
//           machine_detection (DetectMessageEnd | Enable | none; default DetectMessageEnd)
//   kannel: url (smsbox's sendsms URL), username, password, from, webhook_token (checked by
//           the DLR and MO webhooks), dlr_url (Herald's /v1/webhooks/kannel/dlr; empty: no
//           DLRs asked for), dlr_mask (31), timeout_ms (10000), max_concurrent (32), ca_file
//   smtp:   url (smtp://host:port or smtps://host:port), username, password, from, from_name,
//           starttls (try | required | none; default try), timeout_ms (30000),
//           max_concurrent (8), ca_file
// Unknown keys are rejected so that a typo in the config file is named, not ignored.
struct GatewayConfig {
  std::string name;
  std::string type;  // log | twilio | kannel | smtp
  Channel channel = Channel::sms;
  double rate_per_second = 50;
  double burst = 50;
  std::map<std::string, std::string> settings;
};

// An unknown type, a missing or invalid setting or a channel the type cannot serve is an
// ApiError whose field names the key: "gateways.<name>.<key>".
Result<std::unique_ptr<Gateway>> make_gateway(const GatewayConfig& config);

}  // namespace herald::gateways

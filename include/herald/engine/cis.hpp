// The CIS actions client: signed, idempotent calls to cis.actions_url with a timeout, each
// action recorded so that a key the CIS has answered is never sent again.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/gateways/cis.hpp"
#include "herald/store/cis_actions.hpp"
#include "herald/store/db.hpp"

namespace herald::engine {

struct CisConfig {
  std::string actions_url;  // empty: no CIS (BAL answers from billing events, payment is unavailable)
  std::string secret;       // HMAC-SHA256 key of X-Herald-Signature
  std::chrono::milliseconds timeout{5000};  // per HTTP request
  int max_attempts = 2;                     // HTTP requests per call while the CIS gives no usable answer
  std::string ca_file;                      // empty: the system's CA store
  bool configured() const { return !actions_url.empty(); }
};

struct CisResult {
  gateways::CisOutcome outcome = gateways::CisOutcome::unavailable;
  Json data = Json::object();  // ok / declined: the CIS's JSON
  std::string reason, detail;
  bool from_record = false;  // answered before under this key; the CIS was not called
  bool ok() const { return outcome == gateways::CisOutcome::ok; }
};

class CisClient {
 public:
  // Keeps a reference to db, which must outlive the client.
  CisClient(store::Database& db, CisConfig config);
  ~CisClient();
  CisClient(const CisClient&) = delete;
  CisClient& operator=(const CisClient&) = delete;

  bool configured() const { return config_.configured(); }

  // Performs `action` at most once per idempotency key. A key the CIS answered (ok or declined)
  // returns the stored answer without a request; a key whose call is in flight elsewhere is
  // unavailable ("in_progress"); otherwise the request is sent, and sent again with the same
  // key up to max_attempts times while no usable answer comes (the CIS deduplicates on the
  // key, so a retry after a lost answer does not charge twice). Without a CIS configured:
  // unavailable "not_configured", nothing recorded. `now` is the caller's (injected) time: the
  // record's and the request's sent_at. Blocking; safe from several threads.
  CisResult perform(std::string_view action, std::string_view idempotency_key, const Json& params,
                    const store::CisActionOrigin& origin, TimePoint now);

 private:
  struct Transports;
  store::Database& db_;
  CisConfig config_;
  std::unique_ptr<Transports> transports_;
};

}  // namespace herald::engine

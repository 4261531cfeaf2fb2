// The record of every action asked of the CIS, keyed by its idempotency key: a key already
// answered is never sent again.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// What asked for the action, for the record and the engagement report.
struct CisActionOrigin {
  std::string account_id;
  std::optional<std::int64_t> conversation_id;
  std::optional<std::int64_t> inbound_id;
};

struct CisActionRow {
  std::string idempotency_key;
  std::string action;
  std::string status;  // pending, ok, declined, unavailable
  Json response;       // the CIS's JSON (ok, declined); null otherwise
  std::string reason, detail;
  long http_status = 0;
  int attempts = 0;
};

enum class CisClaim {
  claimed,    // the caller now sends the request (first time, after "unavailable", or a stale pending)
  answered,   // ok or declined before: the row holds the answer
  in_flight,  // another caller is sending it right now
};

struct CisClaimResult {
  CisClaim claim = CisClaim::claimed;
  CisActionRow row;
};

// Inserts the action as pending, or takes over a row whose last call went unanswered or whose
// pending call started before `stale_before`. Otherwise returns the row as it is.
CisClaimResult claim_cis_action(Database& db, std::string_view idempotency_key, std::string_view action,
                                const Json& request, const CisActionOrigin& origin, TimePoint now,
                                TimePoint stale_before);

// Records the outcome of the claimed call: status ok, declined or unavailable, after `attempts`
// more HTTP requests. ok and declined set completed_at.
void record_cis_answer(Database& db, std::string_view idempotency_key, std::string_view status, const Json& response,
                       long http_status, std::string_view reason, std::string_view detail, int attempts, TimePoint now);

std::optional<CisActionRow> find_cis_action(Database& db, std::string_view idempotency_key);

}  // namespace herald::store

// Outages: the stored outage with its area and history (PUT/GET /v1/outages, outage.updated
// events), the list, and the counts of what its customers were told.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/outage.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct OutageHistoryEntry {
  TimePoint at{};
  std::string actor, source, status;
  Json changes;  // {"field": {"from": ..., "to": ...}}
};

struct StoredOutage {
  std::string outage_id, status, kind, cause;
  std::optional<TimePoint> etr, planned_start, planned_end, ended_at;
  TimePoint created_at{}, updated_at{};
  std::int64_t seq = 0;
  std::vector<std::string> feeders, zips;
  std::vector<std::string> premise_ids;  // only when at most kListedPremises
  std::int64_t premise_count = 0;
};

inline constexpr std::int64_t kListedPremises = 1000;

struct OutageCounts {
  std::int64_t affected_customers = 0, affected_accounts = 0;
  std::map<std::string, std::map<std::string, std::int64_t>> notified;  // channel -> status -> messages
  std::int64_t notices = 0;  // notices told (confirmed, ETR updates, restored...)
  std::int64_t reports = 0;  // outage reports linked to the outage
};

struct OutageDetail {
  StoredOutage outage;
  OutageCounts counts;
  std::vector<OutageHistoryEntry> history;  // oldest first, the newest kMaxHistory
};

inline constexpr std::int64_t kMaxHistory = 200;

struct PutOutageResult {
  StoredOutage outage;
  bool created = false;
  bool changed = false;  // false: the same state again, nothing recorded
};

// Creates or changes the outage in one transaction: the row, its area (replaced whole when
// given, loaded from array parameters), a history entry of what changed, and due_at = now so
// the engine judges what to tell (NOTIFY herald_outages). Errors, nothing stored:
// a new outage without `affected` (422 affected) or a planned one without planned_start
// (422 planned_start); a change of status of an outage already restored or cancelled (409).
// source: "api" or "event".
Result<PutOutageResult> put_outage(Database& db, const OutageUpdate& update, std::string_view actor,
                                   std::string_view source, TimePoint now);

std::optional<OutageDetail> get_outage(Database& db, std::string_view outage_id);

struct OutageListFilter {
  bool active_only = true;  // status=active: neither restored nor cancelled
  std::optional<TimePoint> from, to;  // created_at in [from, to)
  int limit = 50;
  std::optional<std::int64_t> before_seq;  // keyset: newest first
};

struct OutagePage {
  std::vector<StoredOutage> items;
  std::optional<std::int64_t> next_before_seq;
};

OutagePage list_outages(Database& db, const OutageListFilter& filter);

// Folds the message-count changes of up to 16 outages that have more than rows_per_outage of
// them into one row per channel and status (migration 0024): what the outage loop runs now and
// then so GET /v1/outages/{id} sums a few rows. Returns how many outages were folded.
std::size_t compact_outage_message_counts(Database& db, std::size_t rows_per_outage = 64);

}  // namespace herald::store

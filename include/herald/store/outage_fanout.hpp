// The engine's side of outages: outage.updated events applied like PUTs, the review of an
// outage whose due_at has come (its affected accounts rebuilt, the notice it calls for
// recorded), and the set-based fan-out of a notice to its recipients in chunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"
#include "herald/store/fanout.hpp"
#include "herald/store/outages.hpp"

namespace herald::store {

// Claims up to `limit` accepted herald.events rows of type outage.updated (SKIP LOCKED, oldest
// first) and applies each as PUT /v1/outages/{data.outage_id} with data as the body (the same
// checks; errors name data.<field>), marking it processed or rejected in the same
// transaction. Returns the number claimed.
std::size_t apply_outage_events(Database& db, std::size_t limit, TimePoint now);

// What the customers of an outage last heard, next to the outage itself.
struct DueOutage {
  StoredOutage outage;
  std::optional<std::string> notified_status;
  std::optional<TimePoint> notified_etr, last_notice_at;
  bool planned_notice_sent = false, planned_reminder_sent = false;
  bool told_before = false;  // an earlier notice exists (its queued messages may be replaced)
};

// A notice as the engine planned it: to_json(FanoutPlan) and "replaces" (its recipients' queued
// messages of the outage get its text in place), kept on the notice for each chunk.
// Its affected accounts are cut into up to `parts` ranges of at least `part_accounts` accounts
// each, written concurrently (run_notice_chunk).
struct NewOutageNotice {
  std::string kind, type;
  Json texts;
  std::size_t parts = 1;
  std::size_t part_accounts = 5000;
};

// One due outage, held locked (FOR UPDATE SKIP LOCKED) in a transaction for the life of the
// object. open() also rebuilds its affected accounts when its area changed since the last build.
class OutageReview {
 public:
  static std::optional<OutageReview> open(Database& db, TimePoint now);
  OutageReview(OutageReview&&) noexcept;
  OutageReview& operator=(OutageReview&&) noexcept;
  ~OutageReview();

  const DueOutage& outage() const;
  // The distinct groups among the affected accounts' recipients.
  std::vector<FanoutGroup> recipient_groups(const FanoutAudience& audience);
  // Records the notice (if any; earlier unfinished notices of the outage are closed: this one
  // reaches everyone), what customers now know, and when to look again; commits.
  void finish(const std::optional<NewOutageNotice>& notice, const DueOutage& told, std::optional<TimePoint> next_due,
              TimePoint now);

 private:
  struct Impl;
  explicit OutageReview(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct NoticeChunk {
  bool pending = false;      // false: no notice was waiting
  std::size_t accounts = 0;  // accounts covered
  std::size_t created = 0, replaced = 0;
  bool part_done = false;    // the part's last chunk
  bool notice_done = false;  // ... and the notice's: every other part was done
};

// Writes the next chunk of a part of the oldest pending notice by the shared fan-out
// (store/fanout.hpp): the first part no other transaction holds (FOR UPDATE SKIP LOCKED), up to
// `chunk_accounts` of its affected accounts after its cursor, so each outage thread free writes a
// part of the same notice beside the others; a recipient whose message about
// this outage is still queued and not leased gets this notice's text in place, the others a new
// message and queue row, and one who does not hear a suppressed row saying why, once per
// outage. One transaction, which also adds its counts to the notice and closes the notice with
// its last part; NOTIFY herald_messages when anything is due.
NoticeChunk run_notice_chunk(Database& db, std::size_t chunk_accounts, const FanoutAudience& audience,
                             const FanoutSigning& signing, TimePoint now);

}  // namespace herald::store

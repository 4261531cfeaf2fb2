// The dispatch loop's SQL: lease due messages, write send outcomes, release leases.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/lane.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct ClaimedMessage {
  Message message;
  Lane lane = Lane::standard;  // the queue row's
  bool expired = false;  // expires_at has passed: to be suppressed, not sent
  bool opted_out = false;  // the address opted out (read after the lease): to be suppressed, not sent
  // Set when the row cannot be read (e.g. a topic this build does not know): the message is
  // to be failed with this error, never sent as a guess.
  std::string unreadable;
};

// Leases up to `limit` messages whose queue row is due at `now` (waiting to be sent, waiting
// for a retry, or leased by an instance whose lease lapsed) for `lease`, highest lane first
// and oldest due first within a lane (0017),
// FOR UPDATE SKIP LOCKED. Only the queue row is written. Then, in the same transaction and
// under the consent lock, marks those whose address has opted out (see 0007).
std::vector<ClaimedMessage> claim_due_messages(Database& db, const std::string& owner, std::size_t limit,
                                               TimePoint now, std::chrono::seconds lease);

enum class AttemptOutcome { sent, retry, failover, failed };

// The result of handling one leased message. Attempt fields are empty when no attempt was
// made (deferred by a rate limit or open circuit, or expired).
struct MessageUpdate {
  std::int64_t id = 0;
  MessageStatus status = MessageStatus::queued;  // sending (retry/deferred), sent, failed, suppressed
  std::optional<TimePoint> due_at;               // set: back in the queue, due then; empty: the message ended
  std::string gateway;       // the gateway the attempt was made on (or, without an attempt, to use next)
  std::string next_gateway;  // failover: the gateway the next attempt goes to
  std::string provider_id;
  std::string suppression_reason;
  std::string last_error;
  bool attempted = false;
  int attempt = 0;  // 1-based attempt number when attempted
  AttemptOutcome outcome = AttemptOutcome::sent;
  TimePoint started_at{};
  int duration_ms = 0;
  int http_status = 0;
  std::string error_code;
  std::string detail;
  bool provider_opt_out = false;  // record an opt-out for (channel, address) from source "provider"
  Channel channel = Channel::sms;
  std::string address;
  // Sent messages that ask a question: {"expected": {"Y": "action", ...}, "ttl_seconds": n}
  // opens a conversation linked to the message, in the same transaction. null: none.
  Json conversation;
};

// Writes every update in one transaction; messages no longer leased by `owner` are left alone.
// The message row is written only for an attempt or an end; a deferral moves its queue row.
// Returns how many leased messages were recorded.
std::size_t record_dispatch_results(Database& db, const std::string& owner, const std::vector<MessageUpdate>& updates,
                                    TimePoint now);

// Of `ids`, the messages still leased by `owner`, their leases pushed to now + lease: the
// heartbeat of sends in flight. A message missing from the answer lost its lease (another
// instance may have it now).
std::vector<std::int64_t> renew_leases(Database& db, const std::string& owner, const std::vector<std::int64_t>& ids,
                                       TimePoint now, std::chrono::seconds lease);

// The check before a chunk is sent: of `ids`, those still leased by `owner`, renewing as
// renew_leases does only the leases more than half spent (a lease with half its time left
// covers the chunk sent right after; not writing it again spares a queue row version per
// message), then reads their addresses' consent under the consent lock (0007).
// `leased`: may be sent now; `opted_out`: still leased, to be suppressed, never sent; an id in
// neither lost its lease. The heartbeat renews with renew_leases instead: a message it keeps
// may be in a provider's hands already and is recorded by its send's outcome.
// `higher_lane_due`: a message of a lane above `lane` (the chunk's) is due and not leased,
// so the round should hand the rest of its batch back and claim again (0017).
struct SendCheck {
  std::vector<std::int64_t> leased;
  std::vector<std::int64_t> opted_out;
  bool higher_lane_due = false;
  // Not set here: the dispatch loop's own check sets it while the instance drains, so a round
  // hands back what it has not sent instead of sending on past the shutdown grace.
  bool stopping = false;
};
SendCheck check_before_send(Database& db, const std::string& owner, const std::vector<std::int64_t>& ids,
                                    TimePoint now, std::chrono::seconds lease, Lane lane = Lane::verification);

// Puts every message leased by `owner` back in the queue (graceful shutdown): each is due at
// once, at the due time it was claimed at.
std::size_t release_leases(Database& db, const std::string& owner);

// Counts of scheduled/queued/sending messages, for the queue-depth gauge.
std::vector<std::pair<std::string, double>> queue_depth(Database& db);

}  // namespace herald::store

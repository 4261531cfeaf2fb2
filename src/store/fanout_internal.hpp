// Store-internal: the one fan-out statement outage notices and area notices write their
// messages with, inside the caller's transaction. Included only by src/store/*.cpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "herald/store/fanout.hpp"
#include "pg.hpp"

namespace herald::store {

// The affected set: rows (key, account_id) of `table` with key_column = key, walked in account
// order. herald.outage_accounts for an outage; a temporary table for an area notice.
struct AffectedSet {
  std::string table, key_column, key;
};

// The distinct groups among the affected accounts' recipients.
std::vector<FanoutGroup> fanout_groups(pqxx::transaction_base& w, const AffectedSet& set, const FanoutAudience& audience);

// What the written messages are: their event, their outage, whether a recipient's message of
// the same outage still queued and not leased gets this text in place instead of a new one.
struct FanoutChunkSpec {
  AffectedSet set;
  std::string cursor;  // the last account written; '' before the first
  std::string through;  // the last account of the range being walked, inclusive; '' for no bound
  std::size_t accounts = 5000;
  FanoutAudience audience;
  const FanoutPlan* plan = nullptr;
  FanoutSigning signing;
  std::optional<std::int64_t> event_seq;
  std::string event_id;
  std::string outage_id;  // empty: none. Set: one suppressed row per (outage, account, channel, reason)
  bool replace_queued = false;
  TimePoint now{};
};

struct FanoutChunkResult {
  std::size_t accounts = 0;  // of the affected set, read by this chunk
  std::string last_account;  // the new cursor ('' when the chunk was empty)
  std::size_t created = 0;   // messages written (suppressed ones included)
  std::size_t queued = 0;    // with a queue row
  std::size_t replaced = 0;  // queued messages given this text
};

// One chunk: the next `accounts` of the set after the cursor (up to `through`) joined to accounts, customers,
// preferences and contacts; per (account, channel the customer chose for the topic) a message
// with the group's text and timing, or a suppressed row saying why not (preference_off: no
// channel chosen, one row on the first reachable channel; no_contact; opted_out; no_template;
// invalid_timezone; expired), as intake records them. Messages and queue rows (the plan's lane)
// in one statement; replaced texts are written into the search index too.
FanoutChunkResult write_fanout_chunk(pqxx::transaction_base& w, const FanoutChunkSpec& spec);

}  // namespace herald::store

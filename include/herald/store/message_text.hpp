// The text indexer's round: copies the searchable text of new messages into herald.message_text.
#pragma once

#include <cstddef>
#include <cstdint>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct TextIndexRound {
  bool ran = false;                  // false: another instance was running a round (nothing done)
  std::size_t indexed = 0;           // messages whose text this round wrote
  std::int64_t indexed_through = 0;  // the watermark after the round: ids up to it are searched by index
  std::int64_t newest_id = 0;        // the newest message id committed when the round ended
};

// One round: under the single watermark row (FOR UPDATE SKIP LOCKED, so instances take turns
// and never wait), writes the text of up to batch_size messages above the watermark, in id
// order and only below ids that may still be committed later, and advances the watermark in
// the same transaction. Called by the indexer loop (engine/text_indexer) and by tests.
TextIndexRound index_message_text(Database& db, std::size_t batch_size);

// Merges the trigram index's pending list into its tree (see 0018_message_search.sql), so
// searches do not scan it. Returns false when the index is missing or this role may not.
bool flush_message_text_index(Database& db);

// The messages in the dispatch queue that are due at `now`, counted up to `limit` and no
// further (a probe of the queue, not a census): the indexer gives way while a backlog this deep
// waits to be sent (engine/text_indexer).
std::size_t due_dispatch_backlog(Database& db, std::size_t limit, TimePoint now);

}  // namespace herald::store

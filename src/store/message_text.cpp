// The text indexer's round over herald.message_text (0018_message_search.sql).
#include "herald/store/message_text.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>

#include "pg.hpp"
#include "queue_sql.hpp"

namespace herald::store {

namespace {

// The watermark row, skipped when another instance's round holds it. `settled` is whether the
// mark has settled: no transaction of this database that began before mark_at is still open.
// Every message id up to mark_id was drawn before mark_at by a transaction that began before
// it, so once those have all ended, no message at or below mark_id can still appear.
// pg_stat_activity shows xact_start of other roles' sessions only to a superuser or
// pg_read_all_stats; herald's writers all use herald's own role.
const char* const kLockState =
    "SELECT s.indexed_through, s.settled_through, s.mark_id, s.mark_at::text,"
    " s.mark_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a"
    "                 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
    "                   AND a.backend_type = 'client backend' AND a.xact_start < s.mark_at)"
    " FROM herald.message_text_state s FOR UPDATE OF s SKIP LOCKED";

// The newest id handed out so far. The sequence has no per-session cache (CACHE 1), so no
// session holds ids below this that it has not used yet. Read before the mark's time (next
// statement), so every transaction that drew one of these ids began before mark_at.
const char* const kSequenceNow =
    "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM herald.messages_id_seq";
const char* const kClockNow = "SELECT clock_timestamp()";

// The same expression `q` matches on herald.messages (store/messages.cpp): subject and body,
// never the HTML, lower-cased (q matches it with LIKE and its own lower case, see 0020); with
// the message's written-once filter columns, so a search combined with them is answered inside
// message_text. A text row already there (a watermark set back by hand) is left alone.
const char* const kIndexBatch =
    "WITH batch AS ("
    "  SELECT id, channel, type, topic, lower(subject || ' ' || body) AS text FROM herald.messages"
    "  WHERE id > $1::bigint AND id <= $2::bigint ORDER BY id LIMIT $3::integer),"
    " written AS (INSERT INTO herald.message_text (message_id, channel, type, topic, text)"
    "             SELECT id, channel, type, topic, text FROM batch"
    "             ON CONFLICT (message_id) DO NOTHING)"
    " SELECT count(*), coalesce(max(id), 0) FROM batch";

const char* const kSaveState =
    "UPDATE herald.message_text_state SET indexed_through = $1, settled_through = $2, mark_id = $3,"
    " mark_at = $4::timestamptz"
    " RETURNING (SELECT coalesce(max(id), 0) FROM herald.messages)";

const char* const kNewestId = "SELECT coalesce(max(id), 0) FROM herald.messages";

// Leased rows are due only when their lease lapses, so a batch in flight does not count;
// scheduled messages (quiet hours) are not due either.
const std::string kDueBacklog =
    "SELECT count(*) FROM (SELECT 1 FROM herald.message_queue WHERE due_at <= $1::timestamptz AND " +
    queue_row_free("", "$1::timestamptz") + " LIMIT $2::bigint) q";

const char* const kFlushIndex =
    "SELECT gin_clean_pending_list(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'herald' AND c.relname = 'message_text_trgm'";

}  // namespace

TextIndexRound index_message_text(Database& db, std::size_t batch_size) {
  TextIndexRound out;
  with_connection(db, [&](pqxx::connection& c) {
    out = TextIndexRound{};
    pqxx::work w(c);
    const auto state = w.exec(kLockState);
    if (state.empty()) return;  // another instance's round: it commits, we come back later
    out.ran = true;
    auto indexed_through = state[0][0].as<std::int64_t>();
    auto settled_through = state[0][1].as<std::int64_t>();
    auto mark_id = state[0][2].as<std::int64_t>();
    const auto before = std::tuple(indexed_through, settled_through, mark_id);
    std::optional<std::string> mark_at;
    if (!state[0][3].is_null()) mark_at = state[0][3].c_str();
    const bool settled = state[0][4].as<bool>();
    if (settled) settled_through = std::max(settled_through, mark_id);
    if (settled || !mark_at) {
      // Everything up to the old mark is settled (or there was none): take the next one.
      mark_id = w.exec(kSequenceNow)[0][0].as<std::int64_t>();
      mark_at = w.exec(kClockNow)[0][0].c_str();
    }
    if (settled_through > indexed_through) {
      const auto r = w.exec_params(kIndexBatch, indexed_through, settled_through, static_cast<int>(batch_size));
      out.indexed = r[0][0].as<std::size_t>();
      // A full batch ends at its last id; a short one has written every settled message.
      indexed_through = out.indexed >= batch_size ? r[0][1].as<std::int64_t>() : settled_through;
    }
    out.indexed_through = indexed_through;
    if (before == std::tuple(indexed_through, settled_through, mark_id)) {
      // Nothing new since the last round: no write (an idle instance commits nothing). The old
      // mark, settled already, stays.
      out.newest_id = w.exec(kNewestId)[0][0].as<std::int64_t>();
      return;
    }
    const auto saved = w.exec_params(kSaveState, indexed_through, settled_through, mark_id, *mark_at);
    out.newest_id = saved[0][0].as<std::int64_t>();
    w.commit();
  });
  return out;
}

bool flush_message_text_index(Database& db) {
  bool flushed = false;
  with_connection(db, [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    flushed = !n.exec(kFlushIndex).empty();
  });
  return flushed;
}

std::size_t due_dispatch_backlog(Database& db, std::size_t limit, TimePoint now) {
  if (limit == 0) return 0;
  std::size_t due = 0;
  with_connection(db, [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    due = n.exec_params(kDueBacklog, format_time(now), static_cast<long long>(limit))[0][0].as<std::size_t>();
  });
  return due;
}

}  // namespace herald::store

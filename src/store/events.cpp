// Events posted by the CIS: one multi-row idempotent insert per batch, and lookup by event_id.
#include "herald/store/events.hpp"

#include <unordered_map>

#include "repo_util.hpp"

namespace herald::store {

namespace {

// The batch travels as one jsonb parameter; "i" keeps the input order so seq follows it and
// the first of two same-id events in a batch is the one stored.
const char* const kInsertEvents =
    "INSERT INTO herald.events (event_id, type, account_id, occurred_at, data, body_hash, source)"
    " SELECT x.event_id, x.type, NULLIF(x.account_id, ''), x.occurred_at, COALESCE(x.data, '{}'),"
    "  x.body_hash, 'api'"
    " FROM jsonb_to_recordset($1::jsonb) AS x(i integer, event_id text, type text, account_id text,"
    "  occurred_at timestamptz, data jsonb, body_hash text)"
    " ORDER BY x.i"
    " ON CONFLICT (event_id) DO NOTHING"
    " RETURNING event_id, seq";

const char* const kSelectStoredHashes =
    "SELECT event_id, seq, body_hash FROM herald.events"
    " WHERE event_id IN (SELECT jsonb_array_elements_text($1::jsonb))";

const char* const kSelectEvent =
    "SELECT e.seq, e.event_id, e.type, COALESCE(e.account_id, ''), e.occurred_at, e.data::text, e.status,"
    " e.error::text, e.received_at, e.processed_at,"
    " (SELECT COALESCE(json_agg(m.id ORDER BY m.id), '[]')::text FROM herald.messages m"
    "   WHERE m.event_seq = e.seq)"
    " FROM herald.events e WHERE e.event_id = $1";

// A stored row's body hash against a request's: a row the CIS inserted directly has no hash
// to compare, so reusing its id is a conflict.
InsertOutcome compare_with_stored(const std::optional<std::string>& stored_hash, const std::string& body_hash) {
  return stored_hash && *stored_hash == body_hash ? InsertOutcome::duplicate : InsertOutcome::conflict;
}

// Inserts one batch in one transaction and fills results (input order).
void insert_batch(Database& db, const std::vector<EventInsert>& events, const std::string& rows_text,
                  std::vector<EventInsertResult>& results);

}  // namespace

std::string_view to_string(InsertOutcome o) {
  switch (o) {
    case InsertOutcome::accepted: return "accepted";
    case InsertOutcome::duplicate: return "duplicate";
    case InsertOutcome::conflict: return "conflict";
  }
  return "unknown";
}

std::vector<EventInsertResult> insert_events(Database& db, const std::vector<EventInsert>& events) {
  std::vector<EventInsertResult> results(events.size());
  if (events.empty()) return results;

  Json rows = Json::array();
  rows.get_ref<Json::array_t&>().reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i].event;
    rows.push_back({{"i", i},
                    {"event_id", e.event_id},
                    {"type", e.type},
                    {"account_id", e.account_id},
                    {"occurred_at", format_time(e.occurred_at)},
                    {"data", e.data},
                    {"body_hash", events[i].body_hash}});
  }
  const std::string rows_text = rows.dump();

  // Two batches that share ids in opposite orders can deadlock on the unique index; Postgres
  // aborts one of them, which simply runs again.
  retry_rolled_back([&] { insert_batch(db, events, rows_text, results); }, /*retries=*/2);
  return results;
}

namespace {

void insert_batch(Database& db, const std::vector<EventInsert>& events, const std::string& rows_text,
                  std::vector<EventInsertResult>& results) {
  in_transaction(db, [&](pqxx::work& w) {
    std::unordered_map<std::string, std::int64_t> inserted;
    for (const auto& row : w.exec_params(kInsertEvents, rows_text))
      inserted.emplace(row[0].c_str(), row[1].as<std::int64_t>());

    // What the database already held for the ids that did not go in. A separate statement:
    // a row committed concurrently by another batch is visible only to a new snapshot.
    struct Stored {
      std::int64_t seq = 0;
      std::optional<std::string> hash;
    };
    std::unordered_map<std::string, Stored> stored;
    if (inserted.size() < events.size()) {
      Json missing = Json::array();
      for (const auto& e : events)
        if (!inserted.count(e.event.event_id)) missing.push_back(e.event.event_id);
      if (!missing.empty()) {
        for (const auto& row : w.exec_params(kSelectStoredHashes, missing.dump())) {
          Stored s;
          s.seq = row[1].as<std::int64_t>();
          if (!row[2].is_null()) s.hash = row[2].c_str();
          stored.emplace(row[0].c_str(), std::move(s));
        }
      }
    }

    // The first of several same-id events in this batch: its index, to compare later ones with.
    std::unordered_map<std::string, std::size_t> first_in_batch;
    for (std::size_t i = 0; i < events.size(); ++i) {
      const auto& id = events[i].event.event_id;
      auto& r = results[i];
      r.event_id = id;
      auto [first, is_first] = first_in_batch.emplace(id, i);
      if (auto ins = inserted.find(id); ins != inserted.end()) {
        r.seq = ins->second;
        r.outcome = is_first ? InsertOutcome::accepted
                    : events[first->second].body_hash == events[i].body_hash ? InsertOutcome::duplicate
                                                                             : InsertOutcome::conflict;
        continue;
      }
      auto s = stored.find(id);
      if (s == stored.end()) {
        // Neither inserted nor found: cannot happen within one transaction unless the row was
        // deleted concurrently. Treat it as a retryable infrastructure failure.
        throw std::runtime_error("event " + id + " neither inserted nor found");
      }
      r.seq = s->second.seq;
      r.outcome = compare_with_stored(s->second.hash, events[i].body_hash);
    }
  });
}

}  // namespace

std::vector<std::optional<InsertOutcome>> stored_outcomes(Database& db, const std::vector<EventInsert>& events) {
  std::vector<std::optional<InsertOutcome>> out(events.size());
  if (events.empty()) return out;
  Json ids = Json::array();
  for (const auto& e : events) ids.push_back(e.event.event_id);
  std::unordered_map<std::string, std::optional<std::string>> stored;
  with_connection(db, [&](pqxx::connection& c) {
    stored.clear();
    pqxx::nontransaction n(c);
    for (const auto& row : n.exec_params(kSelectStoredHashes, ids.dump()))
      stored[row[0].c_str()] = row[2].is_null() ? std::nullopt : std::optional<std::string>(row[2].c_str());
  });
  for (std::size_t i = 0; i < events.size(); ++i)
    if (auto s = stored.find(events[i].event.event_id); s != stored.end())
      out[i] = compare_with_stored(s->second, events[i].body_hash);
  return out;
}

std::optional<StoredEvent> get_event(Database& db, std::string_view event_id) {
  std::optional<StoredEvent> out;
  with_connection(db, [&](pqxx::connection& c) {
    out.reset();
    pqxx::nontransaction n(c);
    const auto r = n.exec_params(kSelectEvent, std::string(event_id));
    if (r.empty()) return;
    const auto row = r[0];
    StoredEvent v;
    v.event.seq = row[0].as<std::int64_t>();
    v.event.event_id = row[1].c_str();
    v.event.type = row[2].c_str();
    v.event.account_id = row[3].c_str();
    v.event.occurred_at = time_of(row[4]);
    v.event.data = json_of(row[5]);
    v.status = parse_event_status(row[6].c_str()).value_or(EventStatus::accepted);
    v.error = json_of(row[7]);
    v.received_at = time_of(row[8]);
    v.processed_at = optional_time_of(row[9]);
    v.message_ids = json_of(row[10]).get<std::vector<std::int64_t>>();
    out = std::move(v);
  });
  return out;
}

}  // namespace herald::store

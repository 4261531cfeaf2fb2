// Outages: create or change one (row, area, history) in a transaction; read it with its counts; list them.
#include "herald/store/outages.hpp"

#include <algorithm>
#include <limits>

#include "outages_internal.hpp"
#include "pg_array.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

// Two writers of one outage id (a PUT and an outage.updated event) take turns, the first
// creating it.
const char* const kLockOutageId = "SELECT pg_advisory_xact_lock(7310012, hashtext($1))";

#define HERALD_OUTAGE_COLUMNS \
  "outage_id, seq, status, kind, cause, etr, planned_start, planned_end, created_at, updated_at, ended_at"

const char* const kSelectOutage = "SELECT " HERALD_OUTAGE_COLUMNS " FROM herald.outages WHERE outage_id = $1";

const char* const kInsertOutage = R"SQL(
INSERT INTO herald.outages (outage_id, status, kind, cause, etr, planned_start, planned_end, created_at, updated_at,
                            ended_at, due_at)
VALUES ($1, $2, $3, $4, NULLIF($5, '')::timestamptz, NULLIF($6, '')::timestamptz, NULLIF($7, '')::timestamptz, $8::timestamptz, $8::timestamptz,
        CASE WHEN $2 IN ('restored', 'cancelled') THEN $8::timestamptz END, $8::timestamptz))SQL";

const char* const kUpdateOutage = R"SQL(
UPDATE herald.outages
SET status = $2, kind = $3, cause = $4, etr = NULLIF($5, '')::timestamptz, planned_start = NULLIF($6, '')::timestamptz,
    planned_end = NULLIF($7, '')::timestamptz, updated_at = $8::timestamptz,
    ended_at = CASE WHEN $2 IN ('restored', 'cancelled') THEN coalesce(ended_at, $8::timestamptz) END,
    area_version = area_version + $9::integer,
    due_at = $8::timestamptz
WHERE outage_id = $1)SQL";

// Whether a premise set differs from the stored one: sizes differ, or a given id is not stored.
const char* const kPremisesDiffer = R"SQL(
SELECT (SELECT count(*) FROM herald.outage_premises WHERE outage_id = $1) <> cardinality($2::text[])
    OR EXISTS (SELECT 1 FROM unnest($2::text[]) p(id)
               WHERE NOT EXISTS (SELECT 1 FROM herald.outage_premises o WHERE o.outage_id = $1 AND o.premise_id = p.id)))SQL";

const char* const kDeletePremises = "DELETE FROM herald.outage_premises WHERE outage_id = $1";
const char* const kDeleteFeeders = "DELETE FROM herald.outage_feeders WHERE outage_id = $1";
const char* const kDeleteZips = "DELETE FROM herald.outage_zips WHERE outage_id = $1";
// One statement per set however large: the ids travel as one array parameter.
const char* const kInsertPremises =
    "INSERT INTO herald.outage_premises (outage_id, premise_id) SELECT $1, unnest($2::text[])";
const char* const kInsertFeeders =
    "INSERT INTO herald.outage_feeders (outage_id, feeder) SELECT $1, unnest($2::text[])";
const char* const kInsertZips = "INSERT INTO herald.outage_zips (outage_id, zip) SELECT $1, unnest($2::text[])";

const char* const kFeeders = "SELECT feeder FROM herald.outage_feeders WHERE outage_id = $1 ORDER BY feeder";
const char* const kZips = "SELECT zip FROM herald.outage_zips WHERE outage_id = $1 ORDER BY zip";
const char* const kPremiseCount = "SELECT count(*) FROM herald.outage_premises WHERE outage_id = $1";
const char* const kPremises =
    "SELECT premise_id FROM herald.outage_premises WHERE outage_id = $1 ORDER BY premise_id LIMIT $2";

const char* const kInsertHistory = R"SQL(
INSERT INTO herald.outage_history (outage_id, at, actor, source, status, changes)
VALUES ($1, $2::timestamptz, $3, $4, $5, $6::jsonb))SQL";

const char* const kHistory = R"SQL(
SELECT at, actor, source, status, changes::text FROM (
  SELECT id, at, actor, source, status, changes FROM herald.outage_history
  WHERE outage_id = $1 ORDER BY id DESC LIMIT $2) h
ORDER BY id)SQL";

const char* const kCounts = R"SQL(
SELECT affected_customers, affected_accounts,
       (SELECT count(*) FROM herald.outage_notices n WHERE n.outage_id = o.outage_id),
       (SELECT count(*) FROM herald.outage_reports r WHERE r.outage_id = o.outage_id)
FROM herald.outages o WHERE outage_id = $1)SQL";

// The sums of the changes 0024's triggers appended; a key whose messages all moved on sums to 0.
const char* const kMessageCounts = R"SQL(
SELECT channel, status, sum(messages) FROM herald.outage_message_counts WHERE outage_id = $1
GROUP BY channel, status HAVING sum(messages) <> 0)SQL";

// Each outage with more than a few change rows gets them folded into one per key. Rows the
// triggers append meanwhile are not in this statement's snapshot and stay; a second instance
// folding at the same time finds the rows already gone and skips them, so the sums hold.
const char* const kCompactMessageCounts = R"SQL(
WITH busy AS (
  SELECT outage_id FROM herald.outage_message_counts GROUP BY outage_id HAVING count(*) > $1 LIMIT 16
), gone AS (
  DELETE FROM herald.outage_message_counts c USING busy b WHERE c.outage_id = b.outage_id
  RETURNING c.outage_id, c.channel, c.status, c.messages
), folded AS (
  INSERT INTO herald.outage_message_counts (outage_id, channel, status, messages)
  SELECT outage_id, channel, status, sum(messages) FROM gone GROUP BY 1, 2, 3 HAVING sum(messages) <> 0
)
SELECT count(*) FROM busy)SQL";

const char* const kList = R"SQL(
SELECT )SQL" HERALD_OUTAGE_COLUMNS R"SQL(
FROM herald.outages
WHERE ($1::boolean IS FALSE OR status NOT IN ('restored', 'cancelled'))
  AND (NULLIF($2, '') IS NULL OR created_at >= NULLIF($2, '')::timestamptz)
  AND (NULLIF($3, '') IS NULL OR created_at < NULLIF($3, '')::timestamptz)
  AND seq < $4::bigint
ORDER BY seq DESC
LIMIT $5)SQL";

// A time parameter; "" for NULL (the statements read NULLIF($n, '')::timestamptz).
std::string time_param(const std::optional<TimePoint>& t) { return t ? format_time(*t) : std::string(); }

Json time_json(const std::optional<TimePoint>& t) { return t ? Json(format_time(*t)) : Json(nullptr); }

StoredOutage outage_of(const pqxx::row& r) {
  StoredOutage o;
  o.outage_id = r[0].c_str();
  o.seq = r[1].as<std::int64_t>();
  o.status = r[2].c_str();
  o.kind = r[3].c_str();
  o.cause = r[4].c_str();
  o.etr = optional_time_of(r[5]);
  o.planned_start = optional_time_of(r[6]);
  o.planned_end = optional_time_of(r[7]);
  o.created_at = time_of(r[8]);
  o.updated_at = time_of(r[9]);
  o.ended_at = optional_time_of(r[10]);
  return o;
}

void load_area(pqxx::transaction_base& t, StoredOutage& o) {
  for (const auto& r : t.exec_params(kFeeders, o.outage_id)) o.feeders.emplace_back(r[0].c_str());
  for (const auto& r : t.exec_params(kZips, o.outage_id)) o.zips.emplace_back(r[0].c_str());
  o.premise_count = t.exec_params1(kPremiseCount, o.outage_id)[0].as<std::int64_t>();
  if (o.premise_count <= kListedPremises)
    for (const auto& r : t.exec_params(kPremises, o.outage_id, kListedPremises))
      o.premise_ids.emplace_back(r[0].c_str());
}

bool same_list(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

void note_change(Json& changes, const char* field, Json from, Json to) {
  if (from != to) changes[field] = {{"from", std::move(from)}, {"to", std::move(to)}};
}

}  // namespace

Result<PutOutageResult> put_outage_in(pqxx::transaction_base& w, const OutageUpdate& u, std::string_view actor,
                                      std::string_view source, TimePoint now) {
  w.exec_params(kLockOutageId, u.outage_id);
  const auto found = w.exec_params(kSelectOutage, u.outage_id);
  std::optional<StoredOutage> old;
  if (!found.empty()) {
    old = outage_of(found[0]);
    load_area(w, *old);
  }

  StoredOutage next = old ? *old : StoredOutage{};
  next.outage_id = u.outage_id;
  next.status = u.status;
  if (u.kind) next.kind = *u.kind;
  else if (!old) next.kind = u.status == "planned" ? "planned" : "unplanned";
  if (u.cause) next.cause = *u.cause;
  if (u.etr_given) next.etr = u.etr;
  if (u.planned_start_given) next.planned_start = u.planned_start;
  if (u.planned_end_given) next.planned_end = u.planned_end;

  if (!old && !u.affected)
    return invalid("affected", "required", "affected is required for a new outage (premise_ids, feeders, zips)");
  if (next.kind == "planned" && !next.planned_start)
    return invalid("planned_start", "required", "planned_start is required for a planned outage");
  if (next.planned_start && next.planned_end && *next.planned_end <= *next.planned_start)
    return invalid("planned_end", "invalid_time", "planned_end must be after planned_start");
  if (old && is_final_outage_status(old->status) && old->status != next.status)
    return ApiError{ErrorKind::conflict, "outage_ended",
                    "outage '" + u.outage_id + "' is " + old->status + "; its status cannot change", "status"};

  Json changes = Json::object();
  const Json none = nullptr;
  note_change(changes, "status", old ? Json(old->status) : none, next.status);
  note_change(changes, "kind", old ? Json(old->kind) : none, next.kind);
  note_change(changes, "cause", old ? Json(old->cause) : none, next.cause);
  note_change(changes, "etr", old ? time_json(old->etr) : none, time_json(next.etr));
  note_change(changes, "planned_start", old ? time_json(old->planned_start) : none, time_json(next.planned_start));
  note_change(changes, "planned_end", old ? time_json(old->planned_end) : none, time_json(next.planned_end));

  bool area_changed = false;
  if (u.affected) {
    const auto premises = text_array(u.affected->premise_ids);
    const bool premises_differ = !old || w.exec_params1(kPremisesDiffer, u.outage_id, premises)[0].as<bool>();
    area_changed =
        premises_differ || !same_list(old->feeders, u.affected->feeders) || !same_list(old->zips, u.affected->zips);
    if (area_changed) {
      if (old) {
        w.exec_params(kDeletePremises, u.outage_id);
        w.exec_params(kDeleteFeeders, u.outage_id);
        w.exec_params(kDeleteZips, u.outage_id);
      }
      w.exec_params(kInsertPremises, u.outage_id, premises);
      w.exec_params(kInsertFeeders, u.outage_id, text_array(u.affected->feeders));
      w.exec_params(kInsertZips, u.outage_id, text_array(u.affected->zips));
      Json from = none;
      if (old) from = {{"premise_ids", old->premise_count}, {"feeders", old->feeders}, {"zips", old->zips}};
      changes["affected"] = {{"from", std::move(from)},
                             {"to",
                              {{"premise_ids", u.affected->premise_ids.size()},
                               {"feeders", u.affected->feeders},
                               {"zips", u.affected->zips}}}};
    }
  }

  PutOutageResult result;
  result.created = !old;
  result.changed = !changes.empty();
  if (result.changed) {
    const auto stamp = format_time(now);
    if (old) {
      w.exec_params(kUpdateOutage, u.outage_id, next.status, next.kind, next.cause, time_param(next.etr),
                    time_param(next.planned_start), time_param(next.planned_end), stamp, area_changed ? 1 : 0);
    } else {
      w.exec_params(kInsertOutage, u.outage_id, next.status, next.kind, next.cause, time_param(next.etr),
                    time_param(next.planned_start), time_param(next.planned_end), stamp);
    }
    w.exec_params(kInsertHistory, u.outage_id, stamp, std::string(actor), std::string(source), next.status,
                  changes.dump());
    w.exec("NOTIFY herald_outages");
  }
  result.outage = outage_of(w.exec_params1(kSelectOutage, u.outage_id));
  load_area(w, result.outage);
  return result;
}

Result<PutOutageResult> put_outage(Database& db, const OutageUpdate& u, std::string_view actor, std::string_view source,
                                   TimePoint now) {
  return transact<PutOutageResult>(db, [&](pqxx::work& w) { return put_outage_in(w, u, actor, source, now); });
}

std::optional<OutageDetail> get_outage(Database& db, std::string_view outage_id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<OutageDetail> {
    const std::string id(outage_id);
    const auto found = w.exec_params(kSelectOutage, id);
    if (found.empty()) return std::nullopt;
    OutageDetail d;
    d.outage = outage_of(found[0]);
    load_area(w, d.outage);
    const auto c = w.exec_params1(kCounts, id);
    d.counts.affected_customers = c[0].as<std::int64_t>();
    d.counts.affected_accounts = c[1].as<std::int64_t>();
    d.counts.notices = c[2].as<std::int64_t>();
    d.counts.reports = c[3].as<std::int64_t>();
    for (const auto& r : w.exec_params(kMessageCounts, id))
      d.counts.notified[r[0].c_str()][r[1].c_str()] = r[2].as<std::int64_t>();
    for (const auto& r : w.exec_params(kHistory, id, kMaxHistory)) {
      OutageHistoryEntry h;
      h.at = time_of(r[0]);
      h.actor = r[1].c_str();
      h.source = r[2].c_str();
      h.status = r[3].c_str();
      h.changes = Json::parse(r[4].c_str());
      d.history.push_back(std::move(h));
    }
    return d;
  });
}

std::size_t compact_outage_message_counts(Database& db, std::size_t rows_per_outage) {
  return in_transaction(db, [&](pqxx::work& w) {
    return w.exec_params1(kCompactMessageCounts, static_cast<std::int64_t>(rows_per_outage))[0].as<std::size_t>();
  });
}

OutagePage list_outages(Database& db, const OutageListFilter& f) {
  return in_transaction(db, [&](pqxx::work& w) {
    OutagePage page;
    const auto rows = w.exec_params(kList, f.active_only, time_param(f.from), time_param(f.to),
                                    f.before_seq.value_or(std::numeric_limits<std::int64_t>::max()), f.limit + 1);
    for (const auto& r : rows) {
      if (static_cast<int>(page.items.size()) == f.limit) {
        page.next_before_seq = page.items.back().seq;
        break;
      }
      page.items.push_back(outage_of(r));
      load_area(w, page.items.back());
    }
    return page;
  });
}

}  // namespace herald::store

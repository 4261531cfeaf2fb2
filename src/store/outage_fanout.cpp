// Outages in SQL: outage.updated events, the review of a due outage, and a notice written to
// its recipients chunk by chunk by the shared fan-out (store/fanout.cpp).
#include "herald/store/outage_fanout.hpp"

#include <algorithm>
#include <optional>

#include "herald/domain/json_io.hpp"
#include "herald/domain/outage.hpp"
#include "herald/store/intake.hpp"
#include "fanout_internal.hpp"
#include "outages_internal.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

// --- outage.updated events ---------------------------------------------------------------------

const char* const kClaimOutageEvents = R"SQL(
SELECT seq, event_id, data::text FROM herald.events
WHERE status = 'accepted' AND type = 'outage.updated'
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED)SQL";

const char* const kFinishEvent = R"SQL(
UPDATE herald.events SET status = $2, error = NULLIF($3, '')::jsonb, processed_at = $4::timestamptz WHERE seq = $1)SQL";

// --- the review of a due outage ----------------------------------------------------------------

const char* const kClaimDueOutage = R"SQL(
SELECT outage_id, seq, status, kind, cause, etr, planned_start, planned_end, created_at, updated_at, ended_at,
       notified_status, notified_etr, last_notice_at, planned_notice_sent, planned_reminder_sent,
       accounts_version < area_version,
       EXISTS (SELECT 1 FROM herald.outage_notices n WHERE n.outage_id = o.outage_id)
FROM herald.outages o
WHERE due_at <= $1::timestamptz
ORDER BY due_at
LIMIT 1
FOR UPDATE SKIP LOCKED)SQL";

// The active accounts in the area, once per area change. One pass over accounts with the three
// sets hashed: the same cost for a street or a whole service territory.
const char* const kDeleteAccounts = "DELETE FROM herald.outage_accounts WHERE outage_id = $1";
const char* const kBuildAccounts = R"SQL(
INSERT INTO herald.outage_accounts (outage_id, account_id, customer_id)
SELECT $1, a.account_id, a.customer_id FROM herald.accounts a
WHERE a.active
  AND (a.premise_id IN (SELECT premise_id FROM herald.outage_premises WHERE outage_id = $1)
       OR a.feeder IN (SELECT feeder FROM herald.outage_feeders WHERE outage_id = $1)
       OR a.zip IN (SELECT zip FROM herald.outage_zips WHERE outage_id = $1)))SQL";
const char* const kAnalyzeAccounts = "ANALYZE herald.outage_accounts";
const char* const kAccountsBuilt = R"SQL(
UPDATE herald.outages o
SET accounts_version = area_version,
    affected_accounts = (SELECT count(*) FROM herald.outage_accounts WHERE outage_id = $1),
    affected_customers = (SELECT count(DISTINCT customer_id) FROM herald.outage_accounts WHERE outage_id = $1)
WHERE outage_id = $1)SQL";

// A newer notice closes the older ones' parts first: the update waits for a chunk in progress on
// any of them (it holds its part's row) and leaves none to claim, so no chunk of an older notice
// runs beside the newer one's, which see all it wrote. The parts before the notices: a chunk
// takes its notice's row last, after its part's (kAddToNotice), never the other way round.
const char* const kCloseEarlierParts = R"SQL(
UPDATE herald.outage_notice_parts p SET done_at = $2::timestamptz
FROM herald.outage_notices n
WHERE n.outage_id = $1 AND n.done_at IS NULL AND p.notice_id = n.id AND p.done_at IS NULL)SQL";
const char* const kCloseEarlierNotices =
    "UPDATE herald.outage_notices SET done_at = $2::timestamptz WHERE outage_id = $1 AND done_at IS NULL";
const char* const kInsertNotice = R"SQL(
INSERT INTO herald.outage_notices (outage_id, kind, type, texts, created_at)
VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz)
RETURNING id)SQL";
// The notice's parts: up to $3 ranges of the affected accounts in key order, of at least $4
// accounts each (ntile over the key index, read once). Part k starts after part k-1's last
// account; the last part has no upper bound, and an empty set gets one part (its chunk finds
// nothing and closes the notice).
const char* const kInsertParts = R"SQL(
WITH n AS (
  SELECT least($3::integer, greatest(1, ceil(count(*) / $4::numeric)))::integer AS parts
  FROM herald.outage_accounts WHERE outage_id = $2
), tiles AS (
  SELECT t, max(account_id) AS hi
  FROM (SELECT account_id, ntile((SELECT parts FROM n)) OVER (ORDER BY account_id) AS t
        FROM herald.outage_accounts WHERE outage_id = $2) s
  GROUP BY t
), bounds AS (
  SELECT t, coalesce(lag(hi) OVER (ORDER BY t), '') AS after, CASE WHEN t = max(t) OVER () THEN '' ELSE hi END AS hi
  FROM tiles
)
INSERT INTO herald.outage_notice_parts (notice_id, part, cursor, last_account)
SELECT $1::bigint, t, after, hi FROM bounds
UNION ALL
SELECT $1::bigint, 1, '', '' WHERE NOT EXISTS (SELECT 1 FROM tiles))SQL";
const char* const kRecordTold = R"SQL(
UPDATE herald.outages
SET notified_status = NULLIF($2, ''), notified_etr = NULLIF($3, '')::timestamptz,
    last_notice_at = NULLIF($4, '')::timestamptz, planned_notice_sent = $5, planned_reminder_sent = $6,
    due_at = NULLIF($7, '')::timestamptz
WHERE outage_id = $1)SQL";

// --- a chunk of a notice -----------------------------------------------------------------------

// The first part of the oldest pending notice that no other transaction holds.
const char* const kClaimPart = R"SQL(
SELECT p.notice_id, p.part, p.cursor, p.last_account, n.outage_id,
       coalesce((n.texts->>'replaces')::boolean, false), n.texts::text
FROM herald.outage_notice_parts p JOIN herald.outage_notices n ON n.id = p.notice_id
WHERE p.done_at IS NULL AND n.done_at IS NULL
ORDER BY p.notice_id, p.part
LIMIT 1
FOR UPDATE OF p SKIP LOCKED)SQL";

const char* const kAdvancePart = R"SQL(
UPDATE herald.outage_notice_parts
SET cursor = CASE WHEN $3 = '' THEN cursor ELSE $3 END, done_at = CASE WHEN $4 THEN $5::timestamptz END
WHERE notice_id = $1 AND part = $2)SQL";

// Every chunk adds its counts to the notice's row, at the end of its transaction (the row is
// held from here to the commit, not for the chunk). Two parts' chunks finishing at once take it
// in turn, so the second's next statement sees the first's part committed: the later of the two
// closes the notice when no part is left.
const char* const kAddToNotice =
    "UPDATE herald.outage_notices SET created = created + $2, replaced = replaced + $3 WHERE id = $1";
const char* const kCloseNoticeWhenDone = R"SQL(
UPDATE herald.outage_notices SET done_at = $2::timestamptz
WHERE id = $1 AND done_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM herald.outage_notice_parts WHERE notice_id = $1 AND done_at IS NULL))SQL";

std::string time_text(const std::optional<TimePoint>& t) { return t ? format_time(*t) : std::string(); }

AffectedSet affected_accounts(const std::string& outage_id) { return {"herald.outage_accounts", "outage_id", outage_id}; }

}  // namespace

std::size_t apply_outage_events(Database& db, std::size_t limit, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    const auto claimed = w.exec_params(kClaimOutageEvents, static_cast<long long>(limit));
    const auto stamp = format_time(now);
    for (const auto& row : claimed) {
      const auto seq = row[0].as<std::int64_t>();
      const std::string event_id = row[1].c_str();
      const auto data = Json::parse(row[2].c_str(), nullptr, false);
      std::optional<ApiError> error;
      if (!data.is_object()) {
        error = invalid("data", "invalid_data", "data must be a JSON object");
      } else {
        std::string outage_id;
        if (auto it = data.find("outage_id"); it != data.end() && it->is_string()) outage_id = it->get<std::string>();
        auto update = parse_outage_update(data, outage_id, "data.");
        if (!update) {
          error = update.error();
        } else {
          // A savepoint: an event that fails after writing leaves nothing behind.
          pqxx::subtransaction sub(w, "outage_event");
          auto applied = put_outage_in(sub, *update, "event:" + event_id, "event", now);
          if (applied) sub.commit();
          else error = applied.error();
        }
      }
      w.exec_params(kFinishEvent, seq, error ? "rejected" : "processed",
                    error ? to_json(*error)["error"].dump() : std::string(), stamp);
    }
    return static_cast<std::size_t>(claimed.size());
  });
}

struct OutageReview::Impl {
  explicit Impl(Database& db) : lease(db) {}
  ConnectionLease lease;
  std::optional<pqxx::work> work;  // after the lease: ends (rolls back) before it
  DueOutage due;
};

OutageReview::OutageReview(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutageReview::OutageReview(OutageReview&&) noexcept = default;
OutageReview& OutageReview::operator=(OutageReview&&) noexcept = default;
OutageReview::~OutageReview() = default;

std::optional<OutageReview> OutageReview::open(Database& db, TimePoint now) {
  auto impl = std::make_unique<Impl>(db);
  try {
    impl->work.emplace(impl->lease.get());
  } catch (const pqxx::broken_connection&) {
    impl->lease.discard();
    throw;
  }
  auto& w = *impl->work;
  const auto found = w.exec_params(kClaimDueOutage, format_time(now));
  if (found.empty()) return std::nullopt;
  const auto& r = found[0];
  auto& d = impl->due;
  d.outage.outage_id = r[0].c_str();
  d.outage.seq = r[1].as<std::int64_t>();
  d.outage.status = r[2].c_str();
  d.outage.kind = r[3].c_str();
  d.outage.cause = r[4].c_str();
  d.outage.etr = optional_time_of(r[5]);
  d.outage.planned_start = optional_time_of(r[6]);
  d.outage.planned_end = optional_time_of(r[7]);
  d.outage.created_at = time_of(r[8]);
  d.outage.updated_at = time_of(r[9]);
  d.outage.ended_at = optional_time_of(r[10]);
  if (!r[11].is_null()) d.notified_status = r[11].c_str();
  d.notified_etr = optional_time_of(r[12]);
  d.last_notice_at = optional_time_of(r[13]);
  d.planned_notice_sent = r[14].as<bool>();
  d.planned_reminder_sent = r[15].as<bool>();
  d.told_before = r[17].as<bool>();
  if (r[16].as<bool>()) {
    w.exec_params(kDeleteAccounts, d.outage.outage_id);
    w.exec_params(kBuildAccounts, d.outage.outage_id);
    // Fresh statistics: planned on an empty table, the fan-out's statements read the whole set
    // through nested loops and sorts.
    w.exec(kAnalyzeAccounts);
    w.exec_params(kAccountsBuilt, d.outage.outage_id);
  }
  return OutageReview(std::move(impl));
}

const DueOutage& OutageReview::outage() const { return impl_->due; }

std::vector<FanoutGroup> OutageReview::recipient_groups(const FanoutAudience& audience) {
  return fanout_groups(*impl_->work, affected_accounts(impl_->due.outage.outage_id), audience);
}

void OutageReview::finish(const std::optional<NewOutageNotice>& notice, const DueOutage& told,
                          std::optional<TimePoint> next_due, TimePoint now) {
  auto& w = *impl_->work;
  const auto& id = impl_->due.outage.outage_id;
  const auto stamp = format_time(now);
  if (notice) {
    w.exec_params(kCloseEarlierParts, id, stamp);
    w.exec_params(kCloseEarlierNotices, id, stamp);
    const auto notice_id = w.exec_params1(kInsertNotice, id, notice->kind, notice->type, notice->texts.dump(), stamp)[0]
                               .as<std::int64_t>();
    w.exec_params(kInsertParts, notice_id, id, static_cast<long long>(std::max<std::size_t>(1, notice->parts)),
                  static_cast<long long>(std::max<std::size_t>(1, notice->part_accounts)));
  }
  w.exec_params(kRecordTold, id, told.notified_status.value_or(""), time_text(told.notified_etr),
                time_text(told.last_notice_at), told.planned_notice_sent, told.planned_reminder_sent,
                time_text(next_due));
  if (notice) w.exec("NOTIFY herald_outages");
  w.commit();
  impl_->work.reset();
}

NoticeChunk run_notice_chunk(Database& db, std::size_t chunk_accounts, const FanoutAudience& audience,
                             const FanoutSigning& signing, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    NoticeChunk out;
    const auto found = w.exec(kClaimPart);
    if (found.empty()) return out;
    out.pending = true;
    const auto& row = found[0];
    const auto notice_id = row[0].as<std::int64_t>();
    const auto part = row[1].as<int>();
    const std::string outage_id = row[4].c_str();
    const auto stamp = format_time(now);
    const auto finish = [&](const std::string& cursor) {
      w.exec_params(kAdvancePart, notice_id, part, cursor, out.part_done, stamp);
      w.exec_params(kAddToNotice, notice_id, static_cast<long long>(out.created), static_cast<long long>(out.replaced));
      if (out.part_done) out.notice_done = w.exec_params(kCloseNoticeWhenDone, notice_id, stamp).affected_rows() > 0;
    };
    const auto plan = fanout_plan_of(Json::parse(row[6].c_str(), nullptr, false));
    if (!plan) {
      // Written by an older Herald in another shape: closed rather than retried forever.
      out.part_done = true;
      finish(std::string());
      return out;
    }
    FanoutChunkSpec spec;
    spec.set = affected_accounts(outage_id);
    spec.cursor = row[2].c_str();
    spec.through = row[3].c_str();
    spec.accounts = chunk_accounts;
    spec.audience = audience;
    spec.plan = &*plan;
    spec.signing = signing;
    spec.event_id = "outage:" + outage_id + ":" + std::to_string(notice_id);
    spec.outage_id = outage_id;
    spec.replace_queued = row[5].as<bool>();
    spec.now = now;
    const auto chunk = write_fanout_chunk(w, spec);
    out.created = chunk.created;
    out.replaced = chunk.replaced;
    out.accounts = chunk.accounts;
    out.part_done = out.accounts < chunk_accounts;
    if (chunk.queued > 0 || out.replaced > 0) w.exec("NOTIFY herald_messages");
    finish(chunk.last_account);
    return out;
  });
}

}  // namespace herald::store

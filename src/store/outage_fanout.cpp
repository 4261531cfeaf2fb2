// Outages in SQL: outage.updated events, the review of a due outage, and a notice written to
// its recipients chunk by chunk by the shared fan-out (store/fanout.cpp).
#include "herald/store/outage_fanout.hpp"

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

const char* const kCloseEarlierNotices =
    "UPDATE herald.outage_notices SET done_at = $2::timestamptz WHERE outage_id = $1 AND done_at IS NULL";
const char* const kInsertNotice = R"SQL(
INSERT INTO herald.outage_notices (outage_id, kind, type, texts, created_at)
VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz))SQL";
const char* const kRecordTold = R"SQL(
UPDATE herald.outages
SET notified_status = NULLIF($2, ''), notified_etr = NULLIF($3, '')::timestamptz,
    last_notice_at = NULLIF($4, '')::timestamptz, planned_notice_sent = $5, planned_reminder_sent = $6,
    due_at = NULLIF($7, '')::timestamptz
WHERE outage_id = $1)SQL";

// --- a chunk of a notice -----------------------------------------------------------------------

const char* const kClaimNotice = R"SQL(
SELECT id, outage_id, cursor, coalesce((texts->>'replaces')::boolean, false), texts::text FROM herald.outage_notices
WHERE done_at IS NULL
ORDER BY id
LIMIT 1
FOR UPDATE SKIP LOCKED)SQL";

const char* const kAdvanceNotice = R"SQL(
UPDATE herald.outage_notices
SET cursor = CASE WHEN $2 = '' THEN cursor ELSE $2 END, created = created + $3, replaced = replaced + $4,
    done_at = CASE WHEN $5 THEN $6::timestamptz END
WHERE id = $1)SQL";

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
    w.exec_params(kCloseEarlierNotices, id, stamp);
    w.exec_params(kInsertNotice, id, notice->kind, notice->type, notice->texts.dump(), stamp);
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
    const auto found = w.exec(kClaimNotice);
    if (found.empty()) return out;
    out.pending = true;
    const auto notice_id = found[0][0].as<std::int64_t>();
    const std::string outage_id = found[0][1].c_str();
    const auto stamp = format_time(now);
    const auto plan = fanout_plan_of(Json::parse(found[0][4].c_str(), nullptr, false));
    if (!plan) {
      // Written by an older Herald in another shape: closed rather than retried forever.
      w.exec_params(kAdvanceNotice, notice_id, std::string(), 0LL, 0LL, true, stamp);
      return out;
    }
    FanoutChunkSpec spec;
    spec.set = affected_accounts(outage_id);
    spec.cursor = found[0][2].c_str();
    spec.accounts = chunk_accounts;
    spec.audience = audience;
    spec.plan = &*plan;
    spec.signing = signing;
    spec.event_id = "outage:" + outage_id + ":" + std::to_string(notice_id);
    spec.outage_id = outage_id;
    spec.replace_queued = found[0][3].as<bool>();
    spec.now = now;
    const auto chunk = write_fanout_chunk(w, spec);
    out.created = chunk.created;
    out.replaced = chunk.replaced;
    out.accounts = chunk.accounts;
    out.notice_done = out.accounts < chunk_accounts;
    w.exec_params(kAdvanceNotice, notice_id, chunk.last_account, static_cast<long long>(out.created),
                  static_cast<long long>(out.replaced), out.notice_done, stamp);
    if (chunk.queued > 0 || out.replaced > 0) w.exec("NOTIFY herald_messages");
    return out;
  });
}

}  // namespace herald::store

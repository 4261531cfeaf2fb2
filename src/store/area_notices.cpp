// Area notices SQL: claim one, gather the accounts of its area in one statement, fan out by store/fanout.cpp.
#include "herald/store/area_notices.hpp"

#include <algorithm>

#include "herald/domain/json_io.hpp"
#include "fanout_internal.hpp"
#include "pg_array.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kClaim = R"SQL(
SELECT seq, event_id, type, (extract(epoch FROM occurred_at) * 1000000)::bigint, data::text
FROM herald.events
WHERE status = 'accepted' AND type = 'notice.broadcast' AND account_id IS NULL
ORDER BY seq
LIMIT 1
FOR UPDATE SKIP LOCKED)SQL";

// The affected set: the active accounts of the area, read through only the lists given, so each
// is an index scan (ZIP, feeder, premise) OR-ed together.
std::string area_accounts_sql(const AreaQuery& q) {
  std::vector<std::string> arms;
  if (!q.zips.empty()) arms.push_back("(a.zip <> '' AND a.zip = ANY($2::text[]))");
  if (!q.feeders.empty()) arms.push_back("(a.feeder <> '' AND a.feeder = ANY($3::text[]))");
  if (!q.segments.empty()) arms.push_back("a.segments && $4::text[]");
  if (!q.premise_ids.empty()) arms.push_back("a.premise_id = ANY($5::text[])");
  std::string where;
  for (const auto& arm : arms) where += (where.empty() ? "" : " OR ") + arm;
  if (where.empty()) where = "false";
  // Every parameter appears, so the statement's parameter types are the same whichever lists
  // are empty.
  return "INSERT INTO area_accounts (event_id, account_id) SELECT $1, a.account_id FROM herald.accounts a"
         " WHERE a.active AND (" + where + ")"
         " AND cardinality($2::text[]) + cardinality($3::text[]) + cardinality($4::text[])"
         " + cardinality($5::text[]) >= 0";
}

const char* const kCreateAccounts =
    "CREATE TEMP TABLE area_accounts (event_id text, account_id text, PRIMARY KEY (event_id, account_id))"
    " ON COMMIT DROP";
const char* const kAnalyzeAccounts = "ANALYZE area_accounts";

const char* const kFinish =
    "UPDATE herald.events SET status = $2, error = NULLIF($3, '')::jsonb, processed_at = $4::timestamptz WHERE seq = $1";

}  // namespace

std::optional<AreaNoticeOutcome> fan_out_area_notice(Database& db, const AreaNoticeRules& rules, TimePoint now,
                                                     std::size_t chunk_size) {
  chunk_size = std::max<std::size_t>(1, chunk_size);
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<AreaNoticeOutcome> {
    const auto claimed = w.exec(kClaim);
    if (claimed.empty()) return std::nullopt;
    const auto& row = claimed[0];
    Event e;
    e.seq = row[0].as<std::int64_t>();
    e.event_id = row[1].as<std::string>();
    e.type = row[2].as<std::string>();
    e.occurred_at = TimePoint(std::chrono::microseconds(row[3].as<long long>()));
    e.data = Json::parse(row[4].as<std::string>(), nullptr, false);
    if (e.data.is_discarded()) e.data = Json::object();
    AreaNoticeOutcome out;
    out.seq = e.seq;
    out.event_id = e.event_id;
    const auto stamp = format_time(now);

    auto query = rules.query(e);
    if (!query) {
      out.rejection = query.error();
      w.exec_params(kFinish, e.seq, "rejected", to_json(query.error())["error"].dump(), stamp);
      return out;
    }
    const auto& q = *query;
    w.exec(kCreateAccounts);
    w.exec_params(area_accounts_sql(q), e.event_id, text_array(q.zips), text_array(q.feeders),
                  text_array(q.segments), text_array(q.premise_ids));
    w.exec(kAnalyzeAccounts);

    const AffectedSet set{"area_accounts", "event_id", e.event_id};
    const auto groups = fanout_groups(w, set, q.audience);
    if (!groups.empty()) {
      const FanoutPlan plan = rules.plan(e, groups);
      FanoutChunkSpec spec;
      spec.set = set;
      spec.accounts = chunk_size;
      spec.audience = q.audience;
      spec.plan = &plan;
      spec.signing = rules.signing;
      spec.event_seq = e.seq;
      spec.event_id = e.event_id;
      spec.now = now;
      for (;;) {
        const auto chunk = write_fanout_chunk(w, spec);
        out.messages += chunk.created;
        out.queued += chunk.queued;
        if (chunk.accounts < chunk_size) break;
        spec.cursor = chunk.last_account;
      }
    }
    w.exec_params(kFinish, e.seq, "processed", std::string(), stamp);
    if (out.queued > 0) w.exec("NOTIFY herald_messages");
    return out;
  });
}

}  // namespace herald::store

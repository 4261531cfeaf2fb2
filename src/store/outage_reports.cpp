// Outage reports: filed once per inbound message with their forward to the OMS, listed, and
// the outbox the forwarder leases; the outage lookup STATUS asks.
#include "herald/store/outage_reports.hpp"

#include <algorithm>
#include <map>

#include "pg_array.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kInsertReport =
    "INSERT INTO herald.outage_reports (account_id, customer_id, premise_id, source, inbound_id, note, created_at,"
    " outage_id)"
    " VALUES ($1, NULLIF($2, ''), $3, $4, NULLIF($5, '')::bigint, $6, $7::timestamptz, NULLIF($8, ''))"
    " ON CONFLICT (inbound_id) WHERE inbound_id IS NOT NULL DO NOTHING RETURNING id, report_id";

// The idempotency key names the report: every request for it, from any instance, carries it.
const char* const kQueueForward =
    "INSERT INTO herald.outage_report_forwards (report_id, idempotency_key, due_at, created_at)"
    " VALUES ($1, 'outage-report-' || $2, $3::timestamptz, $3::timestamptz)";

// The newest active outage there, else one restored there within a day (0012_outages.sql).
const char* const kOutageAtPremise = R"SQL(
SELECT o.outage_id, o.status, o.etr FROM herald.outages o
WHERE o.outage_id = herald.outage_at_premise($1, now(), true))SQL";

const char* const kReportOfInbound =
    "SELECT report_id, outage_id FROM herald.outage_reports WHERE inbound_id = $1::bigint";

const char* const kReportColumns =
    "r.id, r.report_id, r.account_id, coalesce(r.customer_id, ''), r.premise_id, r.source, r.note, r.inbound_id,"
    " r.outage_id, r.created_at, f.state, f.attempts, coalesce(f.http_status, 0), f.last_error, f.last_attempt_at,"
    " f.completed_at, f.due_at, f.lease_owner";

const char* const kReportFrom =
    " FROM herald.outage_reports r LEFT JOIN herald.outage_report_forwards f ON f.report_id = r.id";

// Due rows are picked in an InitPlan (the claim pattern of the message queue).
const char* const kLease =
    "WITH due AS (SELECT report_id FROM herald.outage_report_forwards"
    "   WHERE state = 'pending' AND due_at <= $2::timestamptz ORDER BY due_at LIMIT $3::integer FOR UPDATE SKIP LOCKED)"
    " UPDATE herald.outage_report_forwards f SET lease_owner = $1, due_at = $4::timestamptz"
    " FROM due WHERE f.report_id = due.report_id RETURNING f.report_id, f.idempotency_key, f.attempts";

const char* const kRecordDelivered =
    "UPDATE herald.outage_report_forwards SET state = 'delivered', lease_owner = NULL, attempts = attempts + 1,"
    " http_status = NULLIF($3::integer, 0), last_error = '', last_attempt_at = $4::timestamptz,"
    " completed_at = $4::timestamptz"
    " WHERE report_id = $1 AND state = 'pending' AND lease_owner = $2";

const char* const kRecordFailed =
    "UPDATE herald.outage_report_forwards SET lease_owner = NULL, attempts = attempts + 1,"
    " http_status = NULLIF($3::integer, 0), last_error = $5, last_attempt_at = $4::timestamptz,"
    " state = CASE WHEN $6 THEN 'abandoned' ELSE 'pending' END,"
    " completed_at = CASE WHEN $6 THEN $4::timestamptz END,"
    " due_at = CASE WHEN $6 THEN due_at ELSE $7::timestamptz END"
    " WHERE report_id = $1 AND state = 'pending' AND lease_owner = $2";

const char* const kRelease =
    "UPDATE herald.outage_report_forwards SET lease_owner = NULL, due_at = $2::timestamptz"
    " WHERE state = 'pending' AND lease_owner = $1";

OutageReportRow report_of(const pqxx::row& r) {
  OutageReportRow out;
  out.id = r[0].as<std::int64_t>();
  out.report_id = r[1].c_str();
  out.account_id = r[2].c_str();
  out.customer_id = r[3].c_str();
  out.premise_id = r[4].c_str();
  out.source = r[5].c_str();
  out.note = r[6].c_str();
  if (!r[7].is_null()) out.inbound_id = r[7].as<std::int64_t>();
  if (!r[8].is_null()) out.outage_id = std::string(r[8].c_str());
  out.created_at = time_of(r[9]);
  if (!r[10].is_null()) {
    ReportForwarding f;
    f.state = r[10].c_str();
    f.attempts = r[11].as<int>();
    f.http_status = r[12].as<long>();
    f.last_error = r[13].c_str();
    f.last_attempt_at = optional_time_of(r[14]);
    f.completed_at = optional_time_of(r[15]);
    // A leased row's due_at is its lease expiry, not a planned attempt.
    if (f.state == "pending" && r[17].is_null()) f.next_attempt_at = optional_time_of(r[16]);
    out.forwarding = std::move(f);
  }
  return out;
}

}  // namespace

FiledOutageReport file_outage_report(Database& db, const NewOutageReport& report) {
  const std::string inbound = report.inbound_id ? std::to_string(*report.inbound_id) : std::string();
  // Looked up before the insert's transaction: an outage that starts or ends in between is a
  // race no order of statements can remove (the customer's report and the outage's PUT are
  // independent), and the lookup's own statements stay where the outage code keeps them.
  std::optional<std::string> outage_id = report.outage_id;
  if (!outage_id && !report.premise_id.empty())
    if (auto known = outage_at_premise(db, report.premise_id)) outage_id = known->outage_id;
  return in_transaction(db, [&](pqxx::work& w) {
    const auto r = w.exec_params(kInsertReport, report.account_id, report.customer_id, report.premise_id, report.source,
                                 inbound, report.note, format_time(report.created_at), outage_id.value_or(""));
    if (!r.empty()) {
      const auto id = r[0][0].as<std::int64_t>();
      const std::string report_id = r[0][1].c_str();
      w.exec_params(kQueueForward, id, report_id, format_time(report.created_at));
      w.exec("NOTIFY herald_outage_reports");
      return FiledOutageReport{report_id, true, outage_id};
    }
    const auto first = w.exec_params1(kReportOfInbound, inbound);
    return FiledOutageReport{first[0].c_str(), false,
                             first[1].is_null() ? std::nullopt : std::optional<std::string>(first[1].c_str())};
  });
}

OutageReportPage list_outage_reports(Database& db, const OutageReportFilter& f) {
  const int limit = std::clamp(f.limit, 1, 500);
  const std::string sql = std::string("SELECT ") + kReportColumns + kReportFrom +
                          " WHERE ($1 = '' OR r.outage_id = $1)"
                          "   AND ($2 = '' OR r.premise_id = $2)"
                          "   AND (NULLIF($3, '') IS NULL OR r.created_at >= NULLIF($3, '')::timestamptz)"
                          "   AND (NULLIF($4, '') IS NULL OR r.created_at < NULLIF($4, '')::timestamptz)"
                          "   AND ($5::bigint = 0 OR r.id < $5::bigint)"
                          "   AND ($7 = '' OR f.state = $7)"
                          " ORDER BY r.id DESC LIMIT $6::integer";
  return in_transaction(db, [&](pqxx::work& w) {
    OutageReportPage page;
    const auto rows = w.exec_params(sql, f.outage_id, f.premise_id, f.from ? format_time(*f.from) : std::string(),
                                    f.to ? format_time(*f.to) : std::string(), f.before_id, limit + 1,
                                    f.forwarding);
    for (const auto& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_before_id = page.items.back().id;
        break;
      }
      page.items.push_back(report_of(row));
    }
    return page;
  });
}

std::optional<OutageReportRow> find_outage_report(Database& db, std::string_view report_id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<OutageReportRow> {
    const auto rows = w.exec_params(std::string("SELECT ") + kReportColumns + kReportFrom + " WHERE r.report_id = $1",
                                    std::string(report_id));
    if (rows.empty()) return std::nullopt;
    return report_of(rows[0]);
  });
}

std::vector<ReportForward> lease_report_forwards(Database& db, const std::string& owner, std::size_t limit,
                                                 TimePoint now, std::chrono::seconds lease) {
  return in_transaction(db, [&](pqxx::work& w) {
    std::vector<ReportForward> out;
    const auto leased = w.exec_params(kLease, owner, format_time(now), static_cast<int>(limit), format_time(now + lease));
    if (leased.empty()) return out;
    ArrayLiteral ids;
    for (const auto& row : leased) {
      ReportForward f;
      f.id = row[0].as<std::int64_t>();
      f.idempotency_key = row[1].c_str();
      f.attempts = row[2].as<int>();
      ids.number(f.id);
      out.push_back(std::move(f));
    }
    const auto reports = w.exec_params(std::string("SELECT ") + kReportColumns + kReportFrom +
                                           " WHERE r.id = ANY($1::bigint[])",
                                       ids.str());
    std::map<std::int64_t, OutageReportRow> by_id;
    for (const auto& row : reports) {
      auto r = report_of(row);
      by_id.emplace(r.id, std::move(r));
    }
    for (auto& f : out) f.report = by_id.at(f.id);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
  });
}

std::size_t record_report_forwards(Database& db, const std::string& owner, const std::vector<ForwardOutcome>& outcomes,
                                   TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    std::size_t recorded = 0;
    for (const auto& o : outcomes) {
      const auto r = o.delivered
                         ? w.exec_params(kRecordDelivered, o.id, owner, static_cast<int>(o.http_status), format_time(now))
                         : w.exec_params(kRecordFailed, o.id, owner, static_cast<int>(o.http_status), format_time(now),
                                         o.error, o.abandon, format_time(o.retry_at));
      recorded += r.affected_rows();
    }
    return recorded;
  });
}

std::size_t release_report_forwards(Database& db, const std::string& owner, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    return static_cast<std::size_t>(w.exec_params(kRelease, owner, format_time(now)).affected_rows());
  });
}

std::optional<KnownOutage> outage_at_premise(Database& db, std::string_view premise_id) {
  if (premise_id.empty()) return std::nullopt;
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<KnownOutage> {
    const auto r = w.exec_params(kOutageAtPremise, std::string(premise_id));
    if (r.empty()) return std::nullopt;
    return KnownOutage{r[0][0].c_str(), r[0][1].c_str(), optional_time_of(r[0][2])};
  });
}

}  // namespace herald::store

// Outage reports: filed once per inbound message; the outage lookup STATUS asks.
#include "herald/store/outage_reports.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kInsertReport =
    "INSERT INTO herald.outage_reports (account_id, customer_id, premise_id, source, inbound_id, note, created_at, outage_id)"
    " VALUES ($1, NULLIF($2, ''), $3, $4, NULLIF($5, '')::bigint, $6, $7::timestamptz,"
    "         herald.outage_at_premise($3, $7::timestamptz, true))"
    " ON CONFLICT (inbound_id) WHERE inbound_id IS NOT NULL DO NOTHING RETURNING report_id";

// The newest active outage there, else one restored there within a day (0012_outages.sql).
const char* const kOutageAtPremise = R"SQL(
SELECT o.outage_id, o.status, o.etr FROM herald.outages o
WHERE o.outage_id = herald.outage_at_premise($1, now(), true))SQL";

const char* const kReportOfInbound = "SELECT report_id FROM herald.outage_reports WHERE inbound_id = $1::bigint";

}  // namespace

FiledOutageReport file_outage_report(Database& db, const NewOutageReport& report) {
  const std::string inbound = report.inbound_id ? std::to_string(*report.inbound_id) : std::string();
  return in_transaction(db, [&](pqxx::work& w) {
    const auto r = w.exec_params(kInsertReport, report.account_id, report.customer_id, report.premise_id, report.source,
                                 inbound, report.note, format_time(report.created_at));
    if (!r.empty()) return FiledOutageReport{r[0][0].c_str(), true};
    return FiledOutageReport{w.exec_params1(kReportOfInbound, inbound)[0].c_str(), false};
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

// Outage reports: filed once per inbound message; the outage lookup STATUS asks.
#include "herald/store/outage_reports.hpp"

#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kInsertReport =
    "INSERT INTO herald.outage_reports (account_id, customer_id, premise_id, source, inbound_id, note, created_at)"
    " VALUES ($1, NULLIF($2, ''), $3, $4, NULLIF($5, '')::bigint, $6, $7::timestamptz)"
    " ON CONFLICT (inbound_id) WHERE inbound_id IS NOT NULL DO NOTHING RETURNING report_id";

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

std::optional<KnownOutage> outage_at_premise(Database&, std::string_view) { return std::nullopt; }

}  // namespace herald::store

// Outage reports customers file (SMS OUT, voice digits, the CIS's IVR or web form), what is known
// about outages at a premise, and the outbox that forwards each report to the utility's OMS.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct NewOutageReport {
  std::string account_id, customer_id, premise_id;
  std::string source = "sms";  // sms, api, voice
  std::optional<std::int64_t> inbound_id;  // the text that filed it
  std::string note;
  TimePoint created_at{};
  // The outage the report is about when the caller knows it (a reply to a restoration text);
  // empty: the active outage at the premise, if any.
  std::optional<std::string> outage_id;
};

struct FiledOutageReport {
  std::string report_id;  // the reference given to the customer, "OR-12"
  bool created = true;    // false: this inbound message had filed it before
  std::optional<std::string> outage_id;  // the outage it was linked to
};

// Files the report, linked to report.outage_id or else to the active outage at its premise,
// and queues its forward to the OMS in the same transaction (NOTIFY herald_outage_reports
// wakes the forwarder). An inbound message files at most one (a second call returns the first).
FiledOutageReport file_outage_report(Database& db, const NewOutageReport& report);

// The forward of a report to the OMS, as an admin sees it.
struct ReportForwarding {
  std::string state;  // pending, delivered, abandoned
  int attempts = 0;
  long http_status = 0;  // of the last attempt; 0 when no answer came
  std::string last_error;
  std::optional<TimePoint> last_attempt_at, completed_at, next_attempt_at;
};

struct OutageReportRow {
  std::int64_t id = 0;
  std::string report_id, account_id, customer_id, premise_id, source, note;
  std::optional<std::int64_t> inbound_id;
  std::optional<std::string> outage_id;
  TimePoint created_at{};
  std::optional<ReportForwarding> forwarding;  // none for reports filed before forwarding existed
};

struct OutageReportFilter {
  std::string outage_id, premise_id;  // "" : any
  std::string forwarding;             // pending, delivered, abandoned; "" : any
  std::optional<TimePoint> from, to;  // created_at in [from, to)
  int limit = 50;
  std::int64_t before_id = 0;  // 0: from the newest
};

struct OutageReportPage {
  std::vector<OutageReportRow> items;  // newest first
  std::optional<std::int64_t> next_before_id;
};

OutageReportPage list_outage_reports(Database& db, const OutageReportFilter& filter);
std::optional<OutageReportRow> find_outage_report(Database& db, std::string_view report_id);

// Forwarding ------------------------------------------------------------------------------------

// A report leased for forwarding, with what the OMS is sent.
struct ReportForward {
  std::int64_t id = 0;  // outage_reports.id
  std::string idempotency_key;
  OutageReportRow report;
  int attempts = 0;  // recorded before this one
};

// Leases up to `limit` pending forwards due at `now` (oldest due first, SKIP LOCKED) to `owner`
// until now + lease: a forwarder that dies holding them leaves them to be sent again after that.
std::vector<ReportForward> lease_report_forwards(Database& db, const std::string& owner, std::size_t limit,
                                                 TimePoint now, std::chrono::seconds lease);

// The outcome of one request for a leased forward. delivered: the OMS accepted it; otherwise
// retry at `retry_at`, or abandon when `abandon` (too old to keep trying).
struct ForwardOutcome {
  std::int64_t id = 0;
  bool delivered = false;
  bool abandon = false;
  TimePoint retry_at{};
  long http_status = 0;
  std::string error;  // why it was not accepted: timeout, http_503, ...
};

// Records outcomes of forwards still leased by `owner` (others are left alone); returns how many.
std::size_t record_report_forwards(Database& db, const std::string& owner, const std::vector<ForwardOutcome>& outcomes,
                                   TimePoint now);

// Puts the forwards `owner` still holds back, due now (graceful shutdown).
std::size_t release_report_forwards(Database& db, const std::string& owner, TimePoint now);

// An outage known at a premise, for STATUS.
struct KnownOutage {
  std::string outage_id;
  std::string status;  // confirmed, crew_assigned, ...
  std::optional<TimePoint> etr;
};

// The newest active outage affecting the premise. Herald keeps no outages yet (they arrive
// with the outage issue): this is the one place that will look them up, so it answers none.
std::optional<KnownOutage> outage_at_premise(Database& db, std::string_view premise_id);

}  // namespace herald::store

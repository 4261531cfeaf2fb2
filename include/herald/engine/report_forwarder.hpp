// The OMS forwarder: sends every outage report from the store's outbox to oms.reports_url,
// signed like the CIS actions, retried with backoff under one idempotency key until the OMS
// accepts it or it is too old.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "herald/rules/clock.hpp"
#include "herald/store/db.hpp"

namespace herald::engine {

struct OmsConfig {
  std::string reports_url;  // empty: reports are not forwarded (their forwards wait in the outbox)
  std::string secret;       // HMAC-SHA256 key of X-Herald-Signature
  std::chrono::milliseconds timeout{5000};  // per request
  std::chrono::milliseconds backoff_base{2000};  // full jitter: random in [0, min(cap, base * 2^n)]
  std::chrono::milliseconds backoff_cap{600000};
  std::chrono::seconds max_age{86400};  // a report not accepted this long after it was filed is abandoned
  std::chrono::milliseconds poll_interval{1000};
  std::size_t batch_size = 50;  // reports leased and sent concurrently per round
  std::string ca_file;          // empty: the system's CA store
  bool configured() const { return !reports_url.empty(); }
};

class ReportForwarder {
 public:
  // Keeps references to db and clock, which must outlive the forwarder. `owner` names this
  // instance's leases.
  ReportForwarder(store::Database& db, OmsConfig config, const rules::Clock& clock, std::string owner);
  ~ReportForwarder();
  ReportForwarder(const ReportForwarder&) = delete;
  ReportForwarder& operator=(const ReportForwarder&) = delete;

  // Starts the forwarding thread, woken by NOTIFY herald_outage_reports and a poll timer.
  // Does nothing unless configured.
  void start();
  // Lets the round in hand finish (bounded by the timeout), puts what this instance still
  // holds back in the outbox and joins the thread.
  void stop();

  // One round: leases due forwards, sends them concurrently, records each outcome (delivered,
  // retry after a full-jitter backoff, or abandoned past max_age). Returns how many were leased.
  std::size_t forward_once();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::engine

// The OMS forwarder's round and thread: lease forwards, send the signed requests, record outcomes.
#include "herald/engine/report_forwarder.hpp"

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include "herald/domain/metrics.hpp"
#include "herald/gateways/curl_multi.hpp"
#include "herald/gateways/oms.hpp"
#include "herald/rules/delivery_policy.hpp"
#include "herald/store/listener.hpp"
#include "herald/store/outage_reports.hpp"
#include "herald/store/pool.hpp"

namespace herald::engine {

namespace {

// What the OMS is told about a report.
Json report_json(const store::OutageReportRow& r) {
  return {{"report_id", r.report_id},
          {"outage_id", r.outage_id ? Json(*r.outage_id) : Json()},
          {"account_id", r.account_id},
          {"customer_id", r.customer_id.empty() ? Json() : Json(r.customer_id)},
          {"premise_id", r.premise_id},
          {"source", r.source},
          {"note", r.note},
          {"created_at", format_time(r.created_at)}};
}

void count(const char* outcome) {
  metrics::Registry::global()
      .counter("herald_oms_forwards_total", "Outage report requests to the OMS, by outcome", {{"outcome", outcome}})
      .inc();
}

}  // namespace

struct ReportForwarder::Impl {
  store::Database& db;
  OmsConfig config;
  const rules::Clock& clock;
  std::string owner;
  std::chrono::seconds lease;
  gateways::CurlMulti transport;
  std::mutex random_mu;
  std::mt19937_64 random{std::random_device{}()};

  std::mutex mu;
  std::condition_variable cv;
  bool woken = false, stopping = false;
  std::thread thread;
  std::unique_ptr<store::Listener> listener;

  static gateways::CurlMulti::Options transport_options(const OmsConfig& c) {
    gateways::CurlMulti::Options o;
    o.max_concurrent = static_cast<int>(std::max<std::size_t>(1, c.batch_size));
    o.timeout = c.timeout;
    o.connect_timeout = std::min(c.timeout, std::chrono::milliseconds(5000));
    o.ca_file = c.ca_file;
    o.max_body_bytes = 64 * 1024;
    return o;
  }

  Impl(store::Database& d, OmsConfig c, const rules::Clock& k, std::string o)
      : db(d),
        config(std::move(c)),
        clock(k),
        owner(std::move(o)),
        // Longer than any round can take: a live forwarder never loses its lease mid-request.
        lease(std::chrono::duration_cast<std::chrono::seconds>(config.timeout) + std::chrono::seconds(30)),
        transport(transport_options(config)) {}

  double random01() {
    std::lock_guard lock(random_mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(random);
  }

  std::size_t forward_once() {
    const auto leased = store::lease_report_forwards(db, owner, std::max<std::size_t>(1, config.batch_size),
                                                     clock.now(), lease);
    if (leased.empty()) return 0;
    std::vector<gateways::TransferRequest> requests;
    requests.reserve(leased.size());
    const auto sent_at = clock.now();
    for (const auto& f : leased)
      requests.emplace_back(gateways::build_oms_report_request(config.reports_url, config.secret, f.idempotency_key,
                                                               report_json(f.report), sent_at));
    const auto responses = transport.perform(requests);
    const auto now = clock.now();
    std::vector<store::ForwardOutcome> outcomes;
    for (std::size_t i = 0; i < leased.size(); ++i) {
      const auto& f = leased[i];
      const auto answer = gateways::parse_oms_response(responses[i]);
      store::ForwardOutcome o;
      o.id = f.id;
      o.http_status = answer.http_status;
      o.delivered = answer.accepted;
      if (!answer.accepted) {
        o.error = answer.reason;
        o.abandon = now - f.report.created_at >= config.max_age;
        // attempts counts the requests before this one: the first retry waits up to base.
        o.retry_at = now + rules::full_jitter_backoff(f.attempts, config.backoff_base, config.backoff_cap, random01());
        if (o.abandon)
          spdlog::error("oms: giving up on {} after {} attempts ({}): older than {} s", f.report.report_id,
                        f.attempts + 1, answer.reason, config.max_age.count());
        else
          spdlog::warn("oms: {} not accepted ({}, attempt {}); retrying", f.report.report_id, answer.reason,
                       f.attempts + 1);
      }
      count(o.delivered ? "delivered" : o.abandon ? "abandoned" : "retry");
      outcomes.push_back(std::move(o));
    }
    store::record_report_forwards(db, owner, outcomes, now);
    return leased.size();
  }

  void wake() {
    {
      std::lock_guard lock(mu);
      woken = true;
    }
    cv.notify_one();
  }

  void loop() {
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      std::chrono::milliseconds wait = config.poll_interval;
      try {
        const auto n = forward_once();
        backoff = std::chrono::milliseconds(100);
        if (n >= config.batch_size) wait = std::chrono::milliseconds(0);
      } catch (const std::exception& e) {
        spdlog::error("oms forwarder: {}; retrying in {} ms", e.what(), backoff.count());
        wait = backoff;
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
      std::unique_lock lock(mu);
      cv.wait_for(lock, wait, [&] { return woken || stopping; });
      woken = false;
      if (stopping) return;
    }
  }
};

ReportForwarder::ReportForwarder(store::Database& db, OmsConfig config, const rules::Clock& clock, std::string owner)
    : impl_(std::make_unique<Impl>(db, std::move(config), clock, std::move(owner))) {}

ReportForwarder::~ReportForwarder() { stop(); }

void ReportForwarder::start() {
  auto& i = *impl_;
  if (!i.config.configured() || i.thread.joinable()) return;
  i.listener = std::make_unique<store::Listener>(
      i.db.url(), std::vector<std::string>{"herald_outage_reports"}, [&i](const std::string&) { i.wake(); },
      [&i] { i.wake(); });
  i.listener->start();
  i.thread = std::thread([&i] {
    store::enter_background_thread("oms-forwarder");
    i.loop();
  });
}

void ReportForwarder::stop() {
  auto& i = *impl_;
  if (!i.thread.joinable()) return;
  {
    std::lock_guard lock(i.mu);
    i.stopping = true;
  }
  i.cv.notify_all();
  i.thread.join();
  if (i.listener) i.listener->stop();
  try {
    const auto released = store::release_report_forwards(i.db, i.owner, i.clock.now());
    if (released > 0) spdlog::info("oms: released {} leased report forwards", released);
  } catch (const std::exception& e) {
    spdlog::warn("oms: could not release report forwards ({}); their leases lapse on their own", e.what());
  }
}

std::size_t ReportForwarder::forward_once() { return impl_->forward_once(); }

}  // namespace herald::engine

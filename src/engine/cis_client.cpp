// The CIS actions client: claim the key, send the signed request (again on no answer), record.
#include "herald/engine/cis.hpp"

#include <mutex>
#include <vector>

#include <spdlog/spdlog.h>

#include "herald/domain/metrics.hpp"
#include "herald/gateways/curl_multi.hpp"

namespace herald::engine {

using gateways::CisOutcome;

// Kept-alive transports, one per concurrent caller: a CurlMulti runs one batch at a time, and a
// slow CIS answer for one customer must not hold up another's.
struct CisClient::Transports {
  gateways::CurlMulti::Options options;
  std::mutex mu;
  std::vector<std::unique_ptr<gateways::CurlMulti>> idle;

  std::unique_ptr<gateways::CurlMulti> take() {
    std::lock_guard lock(mu);
    if (idle.empty()) return std::make_unique<gateways::CurlMulti>(options);
    auto t = std::move(idle.back());
    idle.pop_back();
    return t;
  }
  void give_back(std::unique_ptr<gateways::CurlMulti> t) {
    std::lock_guard lock(mu);
    idle.push_back(std::move(t));
  }
};

CisClient::CisClient(store::Database& db, CisConfig config)
    : db_(db), config_(std::move(config)), transports_(std::make_unique<Transports>()) {
  config_.max_attempts = std::max(1, config_.max_attempts);
  auto& o = transports_->options;
  o.max_concurrent = 1;
  o.timeout = config_.timeout;
  o.connect_timeout = std::min(config_.timeout, std::chrono::milliseconds(5000));
  o.ca_file = config_.ca_file;
  o.max_body_bytes = 256 * 1024;
}

CisClient::~CisClient() = default;

namespace {

CisResult result_of(const store::CisActionRow& row) {
  CisResult r;
  r.outcome = row.status == "ok" ? CisOutcome::ok : row.status == "declined" ? CisOutcome::declined
                                                                              : CisOutcome::unavailable;
  r.data = row.response.is_object() ? row.response : Json::object();
  r.reason = row.reason;
  r.detail = row.detail;
  r.from_record = true;
  return r;
}

void count(std::string_view action, std::string_view outcome) {
  metrics::Registry::global()
      .counter("herald_cis_requests_total", "HTTP requests to the CIS actions URL, by action and outcome",
               {{"action", std::string(action)}, {"outcome", std::string(outcome)}})
      .inc();
}

}  // namespace

CisResult CisClient::perform(std::string_view action, std::string_view idempotency_key, const Json& params,
                             const store::CisActionOrigin& origin, TimePoint now) {
  if (!configured()) {
    CisResult r;
    r.reason = "not_configured";
    r.detail = "no CIS is configured (cis.actions_url)";
    return r;
  }
  const Json request{{"action", action}, {"params", params}};
  // A call older than every request it could still be making has died with its caller.
  const auto longest_call = config_.timeout * config_.max_attempts + std::chrono::seconds(5);
  // Later requests of this call and the record of its answer are stamped now + time spent.
  const auto started = std::chrono::steady_clock::now();
  auto at = [&] {
    return now + std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  };
  const auto claim = store::claim_cis_action(db_, idempotency_key, action, request, origin, now,
                                             now - std::chrono::duration_cast<std::chrono::microseconds>(longest_call));
  if (claim.claim == store::CisClaim::answered) return result_of(claim.row);
  if (claim.claim == store::CisClaim::in_flight) {
    CisResult r;
    r.reason = "in_progress";
    r.detail = "this action is being sent to the CIS by another request";
    return r;
  }

  gateways::CisAnswer answer;
  int sent = 0;
  auto transport = transports_->take();
  try {
    while (sent < config_.max_attempts) {
      const auto request_http = gateways::build_cis_request(config_.actions_url, config_.secret, action,
                                                            idempotency_key, params, at());
      const auto responses = transport->perform({request_http});
      ++sent;
      answer = gateways::parse_cis_response(responses.front());
      count(action, to_string(answer.outcome));
      if (answer.outcome != CisOutcome::unavailable) break;
      spdlog::warn("cis: {} {} unavailable (attempt {} of {}): {} {}", action, idempotency_key, sent,
                   config_.max_attempts, answer.reason, answer.detail);
    }
  } catch (...) {
    // The claim lapses after longest_call; record what we know so the next ask goes at once.
    store::record_cis_answer(db_, idempotency_key, "unavailable", Json(), 0, "transport", "", sent, at());
    throw;
  }
  transports_->give_back(std::move(transport));

  const bool final_answer = answer.outcome != CisOutcome::unavailable;
  store::record_cis_answer(db_, idempotency_key, to_string(answer.outcome), final_answer ? answer.data : Json(),
                           answer.http_status, answer.reason, answer.detail, sent, at());
  CisResult r;
  r.outcome = answer.outcome;
  r.data = answer.data;
  r.reason = answer.reason;
  r.detail = answer.detail;
  return r;
}

}  // namespace herald::engine

// The OMS report forward codec: the signed request and whether the OMS accepted it.
#include "herald/gateways/oms.hpp"

#include "herald/gateways/cis.hpp"

namespace herald::gateways {

HttpRequest build_oms_report_request(std::string_view reports_url, std::string_view secret,
                                     std::string_view idempotency_key, const Json& report, TimePoint now) {
  return build_signed_request(reports_url, secret, idempotency_key,
                              Json{{"type", kOutageReportType}, {"report", report}}, now);
}

OmsAnswer parse_oms_response(const TransferResponse& response) {
  OmsAnswer a;
  a.http_status = response.status;
  if (!response.completed()) {
    a.reason = response.error_code.empty() ? "network" : response.error_code;
    return a;
  }
  a.accepted = response.status >= 200 && response.status < 300;
  if (!a.accepted) a.reason = "http_" + std::to_string(response.status);
  return a;
}

}  // namespace herald::gateways

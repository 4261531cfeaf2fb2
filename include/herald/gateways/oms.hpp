// The OMS report forward wire format: one outage report per request, signed like the CIS
// actions (gateways/cis.hpp), and whether the OMS took it. Pure functions; engine/report_forwarder sends.
#pragma once

#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/gateways/transfer.hpp"

namespace herald::gateways {

inline constexpr std::string_view kOutageReportType = "outage.report";

// POST reports_url with the JSON body
//   {"type": "outage.report", "idempotency_key": "...", "sent_at": "<RFC 3339>", "report": {...}}
// and the CIS actions' headers (Idempotency-Key, X-Herald-Timestamp, X-Herald-Signature).
HttpRequest build_oms_report_request(std::string_view reports_url, std::string_view secret,
                                     std::string_view idempotency_key, const Json& report, TimePoint now);

struct OmsAnswer {
  bool accepted = false;  // a 2xx: the OMS has the report (under this key)
  long http_status = 0;   // 0 when no answer came
  std::string reason;     // not accepted: timeout, connect, http_503, http_401, ...
};

// Any 2xx is accepted, whatever its body; everything else is tried again later under the same
// key (a 4xx too: a refused signature is a configuration the utility can fix, and the report
// must not be lost meanwhile).
OmsAnswer parse_oms_response(const TransferResponse& response);

}  // namespace herald::gateways

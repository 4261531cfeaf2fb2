// Outage reports from the CIS (its IVR or web form) and the list of every report, whatever filed it.
#include "handlers.hpp"
#include "herald/domain/text.hpp"
#include "herald/http/views/outage_reports.hpp"
#include "herald/store/outage_reports.hpp"
#include "herald/store/service_lookups.hpp"

namespace herald::http::handlers {

namespace {

constexpr std::size_t kMaxIdLength = 200;
constexpr std::size_t kMaxNoteLength = 2000;  // characters, as a form's free text

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

struct ReportRequest {
  std::string account_id, note;
};

Result<ReportRequest> parse_report_request(const Json& body) {
  if (!body.is_object()) return invalid("", "invalid_body", "the body must be a JSON object");
  ReportRequest out;
  const auto account = body.find("account_id");
  if (account == body.end() || account->is_null())
    return invalid("account_id", "required", "account_id is required");
  if (!account->is_string() || account->get<std::string>().empty())
    return invalid("account_id", "invalid_account_id", "account_id must be a non-empty string");
  out.account_id = account->get<std::string>();
  if (out.account_id.size() > kMaxIdLength)
    return invalid("account_id", "invalid_account_id", "account_id is longer than 200 bytes");
  if (auto bad = reject_bad_text(out.account_id, "account_id")) return *bad;
  // Reports by SMS and voice are filed by Herald itself; what comes through the API is "api".
  if (const auto source = body.find("source"); source != body.end() && !source->is_null()) {
    if (!source->is_string() || source->get<std::string>() != "api")
      return invalid("source", "invalid_source", "source must be \"api\" (sms and voice reports are filed by Herald)");
  }
  if (const auto note = body.find("note"); note != body.end() && !note->is_null()) {
    if (!note->is_string()) return invalid("note", "invalid_note", "note must be a string");
    out.note = note->get<std::string>();
    if (auto bad = reject_unstorable_text(out.note, "note")) return *bad;
    if (auto bad = reject_control_characters(out.note, "note", /*allow_line_breaks=*/true)) return *bad;
    if (utf8_length(out.note) > kMaxNoteLength)
      return invalid("note", "note_too_long", "note is longer than 2000 characters");
  }
  return out;
}

}  // namespace

Response post_outage_report(Context& ctx) {
  auto body = ctx.json_body();
  if (!body) return error_response(body.error());
  auto request = parse_report_request(*body);
  if (!request) return error_response(request.error());
  const auto account = store::account_by_number(ctx.services.db, request->account_id);
  if (!account)
    return error_response(invalid("account_id", "unknown_account", "no account '" + request->account_id + "'"));

  store::NewOutageReport report;
  report.account_id = account->account_id;
  report.customer_id = account->customer_id;
  report.premise_id = account->premise_id;
  report.source = "api";
  report.note = request->note;
  report.created_at = ctx.now;
  const auto filed = store::file_outage_report(ctx.services.db, report);
  return json_response(201, Json{{"report_id", filed.report_id},
                                  {"outage_id", filed.outage_id ? Json(*filed.outage_id) : Json()}});
}

Response list_outage_reports(Context& ctx) {
  store::OutageReportFilter f;
  f.outage_id = ctx.query_value("outage_id");
  f.premise_id = ctx.query_value("premise_id");
  // An admin looks for the reports the OMS never took with ?forwarding=abandoned.
  f.forwarding = ctx.query_value("forwarding");
  if (!f.forwarding.empty() && f.forwarding != "pending" && f.forwarding != "delivered" && f.forwarding != "abandoned")
    return error_response(invalid("forwarding", "invalid_value", "forwarding must be pending, delivered or abandoned"));
  if (auto bad = read_list_window(ctx, f)) return error_response(*bad);
  return json_response(200, views::outage_report_page_json(store::list_outage_reports(ctx.services.db, f)));
}

}  // namespace herald::http::handlers

// The engagement report as JSON: counts and the rates derived from them.
#include "herald/http/views/engagement.hpp"

namespace herald::http::views {

namespace {

Json rate(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return nullptr;
  return static_cast<double>(part) / static_cast<double>(whole);
}

Json conversions(const store::EngagementReport::Conversions& c) {
  return {{"asked", c.asked}, {"replied_yes", c.replied_yes}, {"paid", c.paid}, {"conversion_rate", rate(c.paid, c.asked)}};
}

}  // namespace

Json engagement_report_json(const store::EngagementReport& report, TimePoint from, TimePoint to) {
  Json inbound = Json::array();
  std::int64_t inbound_total = 0;
  for (const auto& r : report.inbound) {
    inbound.push_back({{"intent", r.matched}, {"keyword", r.keyword}, {"count", r.count}});
    inbound_total += r.count;
  }
  Json opt_outs = Json::array();
  std::int64_t opt_out_total = 0;
  for (const auto& r : report.opt_outs) {
    opt_outs.push_back({{"type", r.type ? Json(*r.type) : Json(nullptr)}, {"count", r.count}});
    opt_out_total += r.count;
  }
  Json by_source = Json::object();
  std::int64_t reports_total = 0;
  for (const auto& [source, count] : report.outage_reports) {
    by_source[source] = count;
    reports_total += count;
  }
  Json delivery = Json::object();
  for (const auto& d : report.delivery) {
    delivery[d.channel] = {{"sent", d.sent},
                           {"delivered", d.delivered},
                           {"undelivered", d.undelivered},
                           {"delivery_rate", rate(d.delivered, d.sent)}};
  }
  return {{"from", format_time(from)},
          {"to", format_time(to)},
          {"inbound", {{"total", inbound_total}, {"by_intent", inbound}}},
          {"opt_outs", {{"total", opt_out_total}, {"by_preceding_type", opt_outs}}},
          {"reply_rate",
           {{"questions_sent", report.questions_sent},
            {"answered", report.questions_answered},
            {"rate", rate(report.questions_answered, report.questions_sent)}}},
          {"reply_to_pay", conversions(report.reply_to_pay)},
          {"pay_keyword", conversions(report.pay_keyword)},
          {"outages_reported", {{"sms", by_source.value("sms", std::int64_t{0})}, {"total", reports_total}, {"by_source", by_source}}},
          {"delivery", delivery}};
}

}  // namespace herald::http::views

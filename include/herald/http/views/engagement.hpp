// The API's view of the engagement report.
#pragma once

#include "herald/domain/types.hpp"
#include "herald/store/engagement.hpp"

namespace herald::http::views {

// {"from", "to",
//  "inbound": {"total", "by_intent": [{"intent", "keyword", "count"}]},
//  "opt_outs": {"total", "by_preceding_type": [{"type" (null: nothing sent before), "count"}]},
//  "reply_rate": {"questions_sent", "answered", "rate"},
//  "reply_to_pay": {"asked", "replied_yes", "paid", "conversion_rate"},
//  "pay_keyword": {"asked", "replied_yes", "paid", "conversion_rate"},
//  "outages_reported": {"sms", "total", "by_source": {"sms": n, ...}},
//  "delivery": {"<channel>": {"sent", "delivered", "undelivered", "delivery_rate"}}}
// Rates are fractions (0..1), null when there is nothing to divide by.
Json engagement_report_json(const store::EngagementReport& report, TimePoint from, TimePoint to);

}  // namespace herald::http::views

// The rules' part of the shared fan-out (outage notices, area notices): a notice rendered once
// per recipient group and channel, timed once per time zone and quiet hours, never per recipient.
#pragma once

#include <vector>

#include "herald/rules/decide.hpp"
#include "herald/rules/templates.hpp"
#include "herald/store/fanout.hpp"

namespace herald::engine {

// What a notice is about: the event the templates read (type, data, id), its rule's urgency,
// priority and lane, when it expires and the rule's part of each message's explanation.
struct FanoutNotice {
  Event event;
  bool urgent = false;
  int priority = 0;
  Lane lane = Lane::outage;
  TimePoint expires_at{};
  Json decision = Json::object();
};

// Texts per (group language, group time zone, channel) with each recipient's own fields left as
// store::fanout_field sentinels (a channel without a template: a text with reason no_template),
// and a timing per (time zone, quiet hours) by the same earliest_send_time intake uses; urgent
// notices override quiet hours as decide does. A group in an unknown time zone is suppressed
// (invalid_timezone); one whose send time is past the expiry, expired. Pure.
store::FanoutPlan plan_fanout(const FanoutNotice& notice, const std::vector<store::FanoutGroup>& groups,
                              const rules::RulesConfig& rules, const rules::TemplateStore& templates, TimePoint now);

// The unsubscribe links' signing for `now` (none without public URLs and a token secret).
store::FanoutSigning fanout_signing(const rules::RulesConfig& rules, TimePoint now);

}  // namespace herald::engine

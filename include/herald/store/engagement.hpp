// The engagement report: what customers texted, what preceded their opt-outs, how often they
// answer questions, reply-to-pay conversions, outages reported by SMS, delivery.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct EngagementReport {
  struct InboundCount {
    std::string matched;  // opt_out, opt_in, help, conversation, service, yes, menu, ignored
    std::string keyword;  // STOP, BAL, the reply ("Y"), ...; "" when none
    std::int64_t count = 0;
  };
  struct OptOutCount {
    std::optional<std::string> type;  // the last message the number was sent before its STOP; none: nullopt
    std::int64_t count = 0;
  };
  struct Conversions {
    std::int64_t asked = 0, replied_yes = 0, paid = 0;
  };
  struct Delivery {
    std::string channel;
    std::int64_t sent = 0, delivered = 0, undelivered = 0;  // sent counts every message a gateway accepted
  };

  std::vector<InboundCount> inbound;  // received in range, by what they matched
  std::vector<OptOutCount> opt_outs;  // STOPs received in range that opted the number out
  std::int64_t questions_sent = 0;     // conversations opened in range by a message that asked
  std::int64_t questions_answered = 0;  // of those, answered by at least one reply
  Conversions reply_to_pay;    // conversations opened in range by a message offering payment by Y
  Conversions pay_keyword;     // PAY's "Reply Y to pay" questions opened in range
  std::vector<std::pair<std::string, std::int64_t>> outage_reports;  // filed in range, by source
  std::vector<Delivery> delivery;  // messages created in range, by channel
};

// Everything in [from, to).
EngagementReport engagement_report(Database& db, TimePoint from, TimePoint to);

}  // namespace herald::store

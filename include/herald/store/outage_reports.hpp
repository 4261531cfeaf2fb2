// Outage reports customers file (SMS OUT, the CIS's IVR or web form), and what is known about
// outages at a premise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct NewOutageReport {
  std::string account_id, customer_id, premise_id;
  std::string source = "sms";  // sms, api, voice
  std::optional<std::int64_t> inbound_id;  // the text that filed it
  std::string note;
  TimePoint created_at{};
};

struct FiledOutageReport {
  std::string report_id;  // the reference given to the customer, "OR-12"
  bool created = true;    // false: this inbound message had filed it before
};

// Files the report, linked to the outage at its premise (the newest active one, else one
// restored there within a day: an OUT answering "Power is restored" belongs to that outage);
// an inbound message files at most one (a second call returns the first).
FiledOutageReport file_outage_report(Database& db, const NewOutageReport& report);

// An outage known at a premise, for STATUS.
struct KnownOutage {
  std::string outage_id;
  std::string status;  // confirmed, crew_assigned, ...
  std::optional<TimePoint> etr;
};

// The outage at the premise: the newest active one (by premise id, or by the feeder or ZIP of
// an account at the premise; a planned outage counts while it is under way), else one restored
// there within the last day, status "restored" (a report answering "Power is restored" belongs
// to it; STATUS says there is no outage).
std::optional<KnownOutage> outage_at_premise(Database& db, std::string_view premise_id);

}  // namespace herald::store

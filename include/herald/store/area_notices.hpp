// Area notices: one notice.broadcast fanned out to the accounts of an area by set-based SQL.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/lane.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// Who is asked: active accounts matching any list of the target (ZIP, feeder, segment,
// premise), each on the channels its customer's preferences (or `defaults` when the customer
// has none) choose for `topic`, through the customer's active verified contact on that
// channel (an opted-in one first).
struct AreaQuery {
  std::vector<std::string> zips, feeders, segments, premise_ids;
  Topic topic = Topic::outage;
  Preferences defaults;
  std::string default_language = "en";
};

// The distinct settings among the recipients that decide time and text: the engine works
// out a send time per quiet-hours setting and renders a text per language and channel, not
// per recipient.
struct AreaQuietHours {
  std::string timezone;
  QuietHours quiet_hours;
};
struct AreaSummary {
  std::size_t recipients = 0;  // (account, channel) pairs
  std::vector<AreaQuietHours> timings;
  std::vector<std::pair<std::string, Channel>> texts;  // (language, channel)
};

// Sentinels a text may hold where a recipient's own value goes; the fan-out replaces them in
// SQL (HTML-escaped in the HTML part), so a text is rendered once per language.
namespace area_field {
inline constexpr const char* kCustomerId = "@@herald:customer.id@@";
inline constexpr const char* kFirstName = "@@herald:customer.first_name@@";
inline constexpr const char* kName = "@@herald:customer.name@@";
inline constexpr const char* kAccountId = "@@herald:account.id@@";
inline constexpr const char* kAccountMasked = "@@herald:account.id_masked@@";
inline constexpr const char* kAccountLast4 = "@@herald:account.last4@@";
inline constexpr const char* kLine1 = "@@herald:account.line1@@";
inline constexpr const char* kLine2 = "@@herald:account.line2@@";
inline constexpr const char* kCity = "@@herald:account.city@@";
inline constexpr const char* kState = "@@herald:account.state@@";
inline constexpr const char* kZip = "@@herald:account.zip@@";
inline constexpr const char* kOneLine = "@@herald:account.one_line@@";
inline constexpr const char* kUnsubscribeUrl = "@@herald:unsubscribe_url@@";
}  // namespace area_field

struct AreaTiming {
  AreaQuietHours key;
  std::optional<TimePoint> send_at;  // unset: suppressed for `reason` (invalid_timezone, expired)
  std::string reason;
};
struct AreaText {
  std::string language;  // the recipients'
  Channel channel = Channel::sms;
  std::string rendered_language;  // the template's (a fallback to the default language)
  std::string subject, body, html;
  int segments = 0;
  std::string encoding;
  std::string reason;  // non-empty: suppressed (no_template)
};
// Signs unsubscribe links in SQL: HMAC-SHA256 as sha256(outer || sha256(inner || payload))
// with the secret's padded key XORed with 0x5c and 0x36 (RFC 2104); with the prefix of the
// link (PublicUrls::unsubscribe("")) and the token's lifetime. No prefix: no link.
struct AreaUnsubscribe {
  std::string prefix;
  std::string inner_key, outer_key;  // 64 bytes each
  std::int64_t expires_unix = 0;
};
struct AreaPlan {
  std::vector<AreaTiming> timings;
  std::vector<AreaText> texts;
  AreaUnsubscribe unsubscribe;
  std::optional<TimePoint> expires_at;
  Lane lane = Lane::outage;
  bool urgent = false;
  int priority = 0;
  Json decision = Json::object();  // the rule's part of each message's explanation
};

struct AreaNoticeRules {
  // The event's area and recipients' rules, or why it is rejected.
  std::function<Result<AreaQuery>(const Event&)> query;
  // Send times and texts for what the recipients share.
  std::function<AreaPlan(const Event&, const AreaSummary&)> plan;
};

struct AreaNoticeOutcome {
  std::int64_t seq = 0;
  std::string event_id;
  std::optional<ApiError> rejection;
  std::size_t messages = 0;  // written (suppressed ones included)
  std::size_t queued = 0;    // with a queue row
};

// In one transaction: claims the oldest accepted area notice (a notice.broadcast without an
// account, FOR UPDATE SKIP LOCKED), gathers its recipients into a temporary table by one
// statement, asks `rules` for the plan, writes messages and queue rows (lane from the plan)
// chunk_size recipients per statement, marks the event processed and wakes the dispatchers.
// Nothing claimable: nullopt. A rejected event is marked so, with its error.
std::optional<AreaNoticeOutcome> fan_out_area_notice(Database& db, const AreaNoticeRules& rules, TimePoint now,
                                                     std::size_t chunk_size = 5000);

}  // namespace herald::store

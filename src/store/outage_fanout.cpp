// The outage fan-out in SQL: outage.updated events, the review of a due outage, and a notice
// written to its recipients chunk by chunk with INSERT ... SELECT.
#include "herald/store/outage_fanout.hpp"

#include <optional>

#include "herald/domain/json_io.hpp"
#include "herald/domain/outage.hpp"
#include "herald/domain/sms_encoding.hpp"
#include "herald/store/intake.hpp"
#include "outages_internal.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

// --- outage.updated events ---------------------------------------------------------------------

const char* const kClaimOutageEvents = R"SQL(
SELECT seq, event_id, data::text FROM herald.events
WHERE status = 'accepted' AND type = 'outage.updated'
ORDER BY seq
LIMIT $1
FOR UPDATE SKIP LOCKED)SQL";

const char* const kFinishEvent = R"SQL(
UPDATE herald.events SET status = $2, error = NULLIF($3, '')::jsonb, processed_at = $4::timestamptz WHERE seq = $1)SQL";

// --- the review of a due outage ----------------------------------------------------------------

const char* const kClaimDueOutage = R"SQL(
SELECT outage_id, seq, status, kind, cause, etr, planned_start, planned_end, created_at, updated_at, ended_at,
       notified_status, notified_etr, last_notice_at, planned_notice_sent, planned_reminder_sent,
       accounts_version < area_version,
       EXISTS (SELECT 1 FROM herald.outage_notices n WHERE n.outage_id = o.outage_id)
FROM herald.outages o
WHERE due_at <= $1::timestamptz
ORDER BY due_at
LIMIT 1
FOR UPDATE SKIP LOCKED)SQL";

// The active accounts in the area, once per area change. One pass over accounts with the three
// sets hashed: the same cost for a street or a whole service territory.
const char* const kDeleteAccounts = "DELETE FROM herald.outage_accounts WHERE outage_id = $1";
const char* const kBuildAccounts = R"SQL(
INSERT INTO herald.outage_accounts (outage_id, account_id, customer_id)
SELECT $1, a.account_id, a.customer_id FROM herald.accounts a
WHERE a.active
  AND (a.premise_id IN (SELECT premise_id FROM herald.outage_premises WHERE outage_id = $1)
       OR a.feeder IN (SELECT feeder FROM herald.outage_feeders WHERE outage_id = $1)
       OR a.zip IN (SELECT zip FROM herald.outage_zips WHERE outage_id = $1)))SQL";
const char* const kAccountsBuilt = R"SQL(
UPDATE herald.outages o
SET accounts_version = area_version,
    affected_accounts = (SELECT count(*) FROM herald.outage_accounts WHERE outage_id = $1),
    affected_customers = (SELECT count(DISTINCT customer_id) FROM herald.outage_accounts WHERE outage_id = $1)
WHERE outage_id = $1)SQL";

// A recipient's language, time zone, quiet hours and outage channels, as rules/decide reads
// them (recipient_language: preferences, account, customer, default). $2..$6 are the defaults
// for a customer without a preferences row: language, quiet hours on, start, end, channels.
#define HERALD_RECIPIENT_COLUMNS                                                                              \
  "a.account_id, a.customer_id, a.timezone, "                                                                 \
  "coalesce(nullif(a.service_address->>'line1', ''), 'your service address') AS addr, "                      \
  "coalesce(nullif(p.language, ''), nullif(a.language, ''), nullif(c.language, ''), $2) AS lang, "           \
  "coalesce(p.quiet_hours_enabled, $3::boolean) AS qe, coalesce(p.quiet_start, $4::smallint) AS qs, "         \
  "coalesce(p.quiet_end, $5::smallint) AS qn, coalesce(p.topics->'outage', $6::jsonb) AS channels "
#define HERALD_RECIPIENT_JOINS                                                                                \
  " JOIN herald.customers c ON c.customer_id = a.customer_id"                                                \
  " LEFT JOIN herald.preferences p ON p.customer_id = a.customer_id "

const char* const kRecipientGroups =
    "SELECT DISTINCT r.lang, r.timezone, r.qe, r.qs, r.qn FROM ("
    " SELECT " HERALD_RECIPIENT_COLUMNS
    " FROM herald.outage_accounts oa JOIN herald.accounts a ON a.account_id = oa.account_id" HERALD_RECIPIENT_JOINS
    " WHERE oa.outage_id = $1) r";

const char* const kCloseEarlierNotices =
    "UPDATE herald.outage_notices SET done_at = $2::timestamptz WHERE outage_id = $1 AND done_at IS NULL";
const char* const kInsertNotice = R"SQL(
INSERT INTO herald.outage_notices (outage_id, kind, type, texts, created_at)
VALUES ($1, $2, $3, $4::jsonb, $5::timestamptz))SQL";
const char* const kRecordTold = R"SQL(
UPDATE herald.outages
SET notified_status = NULLIF($2, ''), notified_etr = NULLIF($3, '')::timestamptz,
    last_notice_at = NULLIF($4, '')::timestamptz, planned_notice_sent = $5, planned_reminder_sent = $6,
    due_at = NULLIF($7, '')::timestamptz
WHERE outage_id = $1)SQL";

// --- a chunk of a notice -----------------------------------------------------------------------

const char* const kClaimNotice = R"SQL(
SELECT id, outage_id, cursor, coalesce((texts->>'replaces')::boolean, false) FROM herald.outage_notices
WHERE done_at IS NULL
ORDER BY id
LIMIT 1
FOR UPDATE SKIP LOCKED)SQL";

// Rendered once per (language, time zone, channel) with this placeholder for the service
// address, which each recipient's row substitutes.
#define HERALD_ADDRESS_PLACEHOLDER "@@HERALD_ADDRESS@@"

// The chunk's recipients and their texts: $1 outage, $2..$6 defaults, $7 cursor, $8 chunk
// size, $9 notice id. One row per (account, channel) with a verified, opted-in contact on a
// channel the customer chose for outages (the first such contact, as rules/decide picks).
// SMS segments are counted here when the count is plain arithmetic (a text with no escape or
// surrogate pairs, an address of plain ASCII GSM characters); otherwise -1, counted after.
#define HERALD_CHUNK_MESSAGES                                                                                  \
  "n AS (SELECT id, texts FROM herald.outage_notices WHERE id = $9::bigint),"                                          \
  " chunk AS (SELECT oa.account_id FROM herald.outage_accounts oa"                                             \
  "  WHERE oa.outage_id = $1 AND oa.account_id > $7 ORDER BY oa.account_id LIMIT $8),"                         \
  " r AS (SELECT " HERALD_RECIPIENT_COLUMNS " FROM chunk JOIN herald.accounts a ON a.account_id = chunk.account_id" \
  HERALD_RECIPIENT_JOINS " WHERE a.active),"                                                                    \
  " rc AS (SELECT DISTINCT ON (r.account_id, ct.channel) r.*, ct.contact_id, ct.channel, ct.address"            \
  "  FROM r JOIN herald.contacts ct ON ct.customer_id = r.customer_id"                                         \
  "  WHERE ct.active AND ct.verified AND ct.consent = 'opted_in' AND r.channels ? ct.channel"                  \
  "  ORDER BY r.account_id, ct.channel, ct.contact_id),"                                                       \
  " t AS (SELECT x.* FROM n, jsonb_to_recordset(n.texts->'texts') AS x(language text, timezone text,"          \
  "  channel text, rendered_language text, subject text, body text, html text, gsm boolean, units integer,"    \
  "  placeholders integer, exact boolean)),"                                                                   \
  " tm AS (SELECT x.* FROM n, jsonb_to_recordset(n.texts->'times') AS x(timezone text, quiet_enabled boolean," \
  "  quiet_start integer, quiet_end integer, status text, not_before timestamptz, explanation jsonb)),"         \
  " msg AS (SELECT rc.account_id, rc.customer_id, rc.contact_id, rc.channel, rc.address,"                      \
  "  t.rendered_language AS language,"                                                                         \
  "  replace(t.subject, '" HERALD_ADDRESS_PLACEHOLDER "', rc.addr) AS subject,"                                 \
  "  replace(t.body, '" HERALD_ADDRESS_PLACEHOLDER "', rc.addr) AS body,"                                       \
  "  replace(t.html, '" HERALD_ADDRESS_PLACEHOLDER "', replace(replace(replace(replace(rc.addr, '&', '&amp;'),"  \
  "   '<', '&lt;'), '>', '&gt;'), '\"', '&quot;')) AS html,"                                                    \
  "  CASE WHEN rc.channel <> 'sms' THEN 0"                                                                     \
  "   WHEN NOT t.exact OR rc.addr !~ '^[A-Za-z0-9 @$!\"#%&''()*+,./:;<=>?_-]*$' THEN -1"                       \
  "   WHEN t.gsm THEN CASE WHEN t.units + t.placeholders * length(rc.addr) <= 160 THEN 1"                      \
  "    ELSE ceil((t.units + t.placeholders * length(rc.addr)) / 153.0)::integer END"                            \
  "   ELSE CASE WHEN t.units + t.placeholders * length(rc.addr) <= 70 THEN 1"                                  \
  "    ELSE ceil((t.units + t.placeholders * length(rc.addr)) / 67.0)::integer END END AS segments,"            \
  "  CASE WHEN rc.channel <> 'sms' THEN '' WHEN t.gsm THEN 'GSM-7' ELSE 'UCS-2' END AS encoding,"               \
  "  tm.status, tm.not_before, tm.explanation"                                                                 \
  "  FROM rc JOIN t ON t.language = rc.lang AND t.timezone = rc.timezone AND t.channel = rc.channel"           \
  "  JOIN tm ON tm.timezone = rc.timezone AND tm.quiet_enabled = rc.qe AND tm.quiet_start = rc.qs"             \
  "   AND tm.quiet_end = rc.qn)"

// A recipient whose message about this outage is still queued and not leased gets this
// notice's text in that message: one message, the newest. The queue row is locked (SKIP
// LOCKED: a dispatcher about to lease it goes on, and then this notice writes a new message).
const char* const kReplaceQueued =
    "WITH " HERALD_CHUNK_MESSAGES
    ", old AS (SELECT m.id, msg.language, msg.subject, msg.body, msg.html, msg.segments, msg.encoding"
    "  FROM msg JOIN herald.messages m ON m.outage_id = $1 AND m.account_id = msg.account_id"
    "   AND m.channel = msg.channel"
    "  JOIN herald.message_queue q ON q.message_id = m.id"
    "  WHERE q.lease_owner IS NULL AND m.status IN ('queued', 'scheduled')"
    "   AND m.event_id <> 'outage:' || $1 || ':' || $9::bigint::text"
    "  FOR UPDATE OF q SKIP LOCKED)"
    " UPDATE herald.messages m SET event_id = 'outage:' || $1 || ':' || $9::bigint::text, type = n.texts->>'type',"
    "  language = old.language, subject = old.subject, body = old.body, html = old.html,"
    "  segments = old.segments, encoding = old.encoding, expires_at = (n.texts->>'expires_at')::timestamptz,"
    "  decision = m.decision || jsonb_build_object('replaced', jsonb_build_object('type', m.type,"
    "   'event_id', m.event_id, 'at', $10::timestamptz)),"
    "  updated_at = $10::timestamptz"
    " FROM old, n WHERE m.id = old.id"
    " RETURNING m.id, m.segments";

const char* const kInsertChunk =
    "WITH " HERALD_CHUNK_MESSAGES
    ", ins AS (INSERT INTO herald.messages (event_id, customer_id, account_id, contact_id, channel, address,"
    "  type, topic, language, priority, urgent, subject, body, html, segments, encoding, status,"
    "  suppression_reason, decision, not_before, expires_at, created_at, updated_at, outage_id)"
    "  SELECT 'outage:' || $1 || ':' || $9::bigint::text, msg.customer_id, msg.account_id, msg.contact_id, msg.channel,"
    "   msg.address, n.texts->>'type', 'outage', msg.language, (n.texts->>'priority')::smallint,"
    "   (n.texts->>'urgent')::boolean, msg.subject, msg.body, msg.html, msg.segments, msg.encoding, msg.status,"
    "   CASE WHEN msg.status = 'suppressed' THEN 'expired' END, msg.explanation,"
    "   CASE WHEN msg.status <> 'suppressed' THEN msg.not_before END, (n.texts->>'expires_at')::timestamptz,"
    "   $10::timestamptz, $10::timestamptz, $1"
    "  FROM msg, n"
    "  WHERE NOT $11::boolean OR NOT EXISTS (SELECT 1 FROM herald.messages m WHERE m.outage_id = $1"
    "   AND m.account_id = msg.account_id AND m.channel = msg.channel"
    "   AND m.event_id = 'outage:' || $1 || ':' || $9::bigint::text)"
    "  RETURNING id, status, not_before, segments),"
    " queued AS (INSERT INTO herald.message_queue (message_id, due_at)"
    "  SELECT id, not_before FROM ins WHERE status IN ('queued', 'scheduled') RETURNING message_id)"
    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM queued), (SELECT count(*) FROM chunk),"
    "  coalesce((SELECT max(account_id) FROM chunk), ''),"
    "  (SELECT coalesce(array_agg(id), '{}') FROM ins WHERE segments < 0)::text";

const char* const kUncountedBodies = "SELECT id, body FROM herald.messages WHERE id = ANY($1::bigint[])";
const char* const kSetSegments = R"SQL(
UPDATE herald.messages m SET segments = x.segments, encoding = x.encoding
FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, segments integer, encoding text)
WHERE m.id = x.id)SQL";

const char* const kAdvanceNotice = R"SQL(
UPDATE herald.outage_notices
SET cursor = CASE WHEN $2 = '' THEN cursor ELSE $2 END, created = created + $3, replaced = replaced + $4,
    done_at = CASE WHEN $5 THEN $6::timestamptz END
WHERE id = $1)SQL";

std::string time_text(const std::optional<TimePoint>& t) { return t ? format_time(*t) : std::string(); }

std::string channels_json(const Preferences& p) {
  Json out = Json::array();
  if (auto it = p.topics.find(Topic::outage); it != p.topics.end())
    for (Channel c : it->second) out.push_back(std::string(to_string(c)));
  return out.dump();
}

std::string default_language(const RecipientDefaults& d) {
  return d.preferences.language.empty() ? d.language : d.preferences.language;
}

// Bodies whose segments the fan-out statement could not count: counted here, exactly.
void count_segments(pqxx::transaction_base& w, const std::string& ids) {
  if (ids == "{}" || ids.empty()) return;
  Json fixes = Json::array();
  for (const auto& row : w.exec_params(kUncountedBodies, ids)) {
    const auto info = sms_encoding(row[1].c_str());
    fixes.push_back({{"id", row[0].as<std::int64_t>()}, {"segments", info.segments}, {"encoding", info.encoding}});
  }
  w.exec_params(kSetSegments, fixes.dump());
}

}  // namespace

std::size_t apply_outage_events(Database& db, std::size_t limit, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    const auto claimed = w.exec_params(kClaimOutageEvents, static_cast<long long>(limit));
    const auto stamp = format_time(now);
    for (const auto& row : claimed) {
      const auto seq = row[0].as<std::int64_t>();
      const std::string event_id = row[1].c_str();
      const auto data = Json::parse(row[2].c_str(), nullptr, false);
      std::optional<ApiError> error;
      if (!data.is_object()) {
        error = invalid("data", "invalid_data", "data must be a JSON object");
      } else {
        std::string outage_id;
        if (auto it = data.find("outage_id"); it != data.end() && it->is_string()) outage_id = it->get<std::string>();
        auto update = parse_outage_update(data, outage_id, "data.");
        if (!update) {
          error = update.error();
        } else {
          // A savepoint: an event that fails after writing leaves nothing behind.
          pqxx::subtransaction sub(w, "outage_event");
          auto applied = put_outage_in(sub, *update, "event:" + event_id, "event", now);
          if (applied) sub.commit();
          else error = applied.error();
        }
      }
      w.exec_params(kFinishEvent, seq, error ? "rejected" : "processed",
                    error ? to_json(*error)["error"].dump() : std::string(), stamp);
    }
    return static_cast<std::size_t>(claimed.size());
  });
}

struct OutageReview::Impl {
  explicit Impl(Database& db) : lease(db) {}
  ConnectionLease lease;
  std::optional<pqxx::work> work;  // after the lease: ends (rolls back) before it
  DueOutage due;
};

OutageReview::OutageReview(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutageReview::OutageReview(OutageReview&&) noexcept = default;
OutageReview& OutageReview::operator=(OutageReview&&) noexcept = default;
OutageReview::~OutageReview() = default;

std::optional<OutageReview> OutageReview::open(Database& db, TimePoint now) {
  auto impl = std::make_unique<Impl>(db);
  try {
    impl->work.emplace(impl->lease.get());
  } catch (const pqxx::broken_connection&) {
    impl->lease.discard();
    throw;
  }
  auto& w = *impl->work;
  const auto found = w.exec_params(kClaimDueOutage, format_time(now));
  if (found.empty()) return std::nullopt;
  const auto& r = found[0];
  auto& d = impl->due;
  d.outage.outage_id = r[0].c_str();
  d.outage.seq = r[1].as<std::int64_t>();
  d.outage.status = r[2].c_str();
  d.outage.kind = r[3].c_str();
  d.outage.cause = r[4].c_str();
  d.outage.etr = optional_time_of(r[5]);
  d.outage.planned_start = optional_time_of(r[6]);
  d.outage.planned_end = optional_time_of(r[7]);
  d.outage.created_at = time_of(r[8]);
  d.outage.updated_at = time_of(r[9]);
  d.outage.ended_at = optional_time_of(r[10]);
  if (!r[11].is_null()) d.notified_status = r[11].c_str();
  d.notified_etr = optional_time_of(r[12]);
  d.last_notice_at = optional_time_of(r[13]);
  d.planned_notice_sent = r[14].as<bool>();
  d.planned_reminder_sent = r[15].as<bool>();
  d.told_before = r[17].as<bool>();
  if (r[16].as<bool>()) {
    w.exec_params(kDeleteAccounts, d.outage.outage_id);
    w.exec_params(kBuildAccounts, d.outage.outage_id);
    w.exec_params(kAccountsBuilt, d.outage.outage_id);
  }
  return OutageReview(std::move(impl));
}

const DueOutage& OutageReview::outage() const { return impl_->due; }

std::vector<RecipientGroup> OutageReview::recipient_groups(const RecipientDefaults& defaults) {
  const auto& qh = defaults.preferences.quiet_hours;
  std::vector<RecipientGroup> out;
  for (const auto& row : impl_->work->exec_params(kRecipientGroups, impl_->due.outage.outage_id,
                                                  default_language(defaults), qh.enabled, qh.start.minutes,
                                                  qh.end.minutes, channels_json(defaults.preferences))) {
    RecipientGroup g;
    g.language = row[0].c_str();
    g.timezone = row[1].c_str();
    g.quiet_hours.enabled = row[2].as<bool>();
    g.quiet_hours.start.minutes = row[3].as<int>();
    g.quiet_hours.end.minutes = row[4].as<int>();
    out.push_back(std::move(g));
  }
  return out;
}

void OutageReview::finish(const std::optional<NewOutageNotice>& notice, const DueOutage& told,
                          std::optional<TimePoint> next_due, TimePoint now) {
  auto& w = *impl_->work;
  const auto& id = impl_->due.outage.outage_id;
  const auto stamp = format_time(now);
  if (notice) {
    w.exec_params(kCloseEarlierNotices, id, stamp);
    w.exec_params(kInsertNotice, id, notice->kind, notice->type, notice->texts.dump(), stamp);
  }
  w.exec_params(kRecordTold, id, told.notified_status.value_or(""), time_text(told.notified_etr),
                time_text(told.last_notice_at), told.planned_notice_sent, told.planned_reminder_sent,
                time_text(next_due));
  if (notice) w.exec("NOTIFY herald_outages");
  w.commit();
  impl_->work.reset();
}

NoticeChunk run_notice_chunk(Database& db, std::size_t chunk_accounts, const RecipientDefaults& defaults,
                             TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    NoticeChunk out;
    const auto found = w.exec(kClaimNotice);
    if (found.empty()) return out;
    out.pending = true;
    const auto notice_id = found[0][0].as<std::int64_t>();
    const std::string outage_id = found[0][1].c_str();
    const std::string cursor = found[0][2].c_str();
    const bool replaces = found[0][3].as<bool>();
    const auto& qh = defaults.preferences.quiet_hours;
    const auto language = default_language(defaults);
    const auto channels = channels_json(defaults.preferences);
    const auto stamp = format_time(now);
    const auto limit = static_cast<long long>(chunk_accounts);

    if (replaces) {
      const auto replaced = w.exec_params(kReplaceQueued, outage_id, language, qh.enabled, qh.start.minutes,
                                          qh.end.minutes, channels, cursor, limit, notice_id, stamp);
      out.replaced = replaced.size();
      std::string ids;
      for (const auto& row : replaced)
        if (row[1].as<int>() < 0) ids += (ids.empty() ? "" : ",") + std::string(row[0].c_str());
      count_segments(w, "{" + ids + "}");
    }
    const auto r = w.exec_params1(kInsertChunk, outage_id, language, qh.enabled, qh.start.minutes, qh.end.minutes,
                                  channels, cursor, limit, notice_id, stamp, replaces);
    out.created = r[0].as<std::size_t>();
    const auto due = r[1].as<std::size_t>();
    out.accounts = r[2].as<std::size_t>();
    const std::string last = r[3].c_str();
    count_segments(w, r[4].c_str());
    out.notice_done = out.accounts < chunk_accounts;
    w.exec_params(kAdvanceNotice, notice_id, last, static_cast<long long>(out.created),
                  static_cast<long long>(out.replaced), out.notice_done, stamp);
    if (due > 0 || out.replaced > 0) w.exec("NOTIFY herald_messages");
    return out;
  });
}

}  // namespace herald::store

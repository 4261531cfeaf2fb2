// Area notices SQL: claim one, gather its recipients in one statement, write messages and queue rows in chunks.
#include "herald/store/area_notices.hpp"

#include <algorithm>

#include "herald/domain/json_io.hpp"
#include "herald/store/intake.hpp"
#include "pg.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kClaim = R"SQL(
SELECT seq, event_id, type, (extract(epoch FROM occurred_at) * 1000000)::bigint, data::text
FROM herald.events
WHERE status = 'accepted' AND type = 'notice.broadcast' AND account_id IS NULL
ORDER BY seq
LIMIT 1
FOR UPDATE SKIP LOCKED)SQL";

// The recipients: one row per (account in the area, channel chosen for the topic) that has a
// contact to use, numbered in account order so the writes can go in chunks. The area is read
// through only the lists given, so each is an index scan (ZIP, feeder, premise) OR-ed together.
std::string recipients_sql(const AreaQuery& q) {
  std::vector<std::string> arms;
  if (!q.zips.empty()) arms.push_back("(a.zip <> '' AND a.zip = ANY($1::text[]))");
  if (!q.feeders.empty()) arms.push_back("(a.feeder <> '' AND a.feeder = ANY($2::text[]))");
  if (!q.segments.empty()) arms.push_back("a.segments && $3::text[]");
  if (!q.premise_ids.empty()) arms.push_back("a.premise_id = ANY($4::text[])");
  std::string where;
  for (const auto& arm : arms) where += (where.empty() ? "" : " OR ") + arm;
  if (where.empty()) where = "false";
  // Every parameter appears, so the statement's parameter types are the same whichever lists
  // are empty.
  return R"SQL(
INSERT INTO area_recipients
WITH area AS (
  SELECT a.account_id, a.customer_id, a.service_address, a.timezone, a.language AS account_language
  FROM herald.accounts a
  WHERE a.active AND ()SQL" + where + R"SQL()
    AND cardinality($1::text[]) + cardinality($2::text[]) + cardinality($3::text[]) + cardinality($4::text[]) >= 0
), chosen AS (
  SELECT ar.account_id, ar.customer_id, ar.service_address, ar.timezone, c.name,
         CASE WHEN p.customer_id IS NOT NULL AND p.language <> '' THEN p.language
              WHEN ar.account_language <> '' THEN ar.account_language
              WHEN c.language <> '' THEN c.language
              WHEN $7 <> '' THEN $7
              ELSE $8 END AS language,
         coalesce(p.quiet_hours_enabled, $9::boolean) AS quiet_enabled,
         coalesce(p.quiet_start, $10::smallint) AS quiet_start,
         coalesce(p.quiet_end, $11::smallint) AS quiet_end,
         ch.channel
  FROM area ar
  JOIN herald.customers c ON c.customer_id = ar.customer_id
  LEFT JOIN herald.preferences p ON p.customer_id = ar.customer_id
  CROSS JOIN LATERAL jsonb_array_elements_text(coalesce(p.topics, $6::jsonb) -> $5::text) AS ch(channel)
)
SELECT row_number() OVER (ORDER BY ch.account_id, ch.channel) AS n, ch.*, ct.contact_id, ct.address, ct.consent
FROM chosen ch
JOIN LATERAL (SELECT contact_id, address, consent FROM herald.contacts ct
              WHERE ct.customer_id = ch.customer_id AND ct.channel = ch.channel AND ct.active AND ct.verified
              ORDER BY (ct.consent = 'opted_in') DESC, ct.contact_id
              LIMIT 1) ct ON true)SQL";
}

const char* const kCreateRecipients = R"SQL(
CREATE TEMP TABLE area_recipients (
  n bigint, account_id text, customer_id text, service_address jsonb, timezone text, name text, language text,
  quiet_enabled boolean, quiet_start integer, quiet_end integer, channel text, contact_id bigint, address text,
  consent text
) ON COMMIT DROP)SQL";
const char* const kIndexRecipients = "CREATE INDEX ON area_recipients (n)";
const char* const kCountRecipients = "SELECT count(*) FROM area_recipients";
const char* const kTimings =
    "SELECT DISTINCT timezone, quiet_enabled, quiet_start, quiet_end FROM area_recipients";
const char* const kTexts = "SELECT DISTINCT language, channel FROM area_recipients";

const char* const kFinish =
    "UPDATE herald.events SET status = $2, error = NULLIF($3, '')::jsonb, processed_at = $4::timestamptz WHERE seq = $1";

std::string quote_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string html_escaped(const std::string& expr) {
  return "replace(replace(replace(replace(replace(" + expr +
         ", '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;'), '''', '&#39;')";
}

std::string address_part(const char* key) { return "coalesce(r.service_address->>'" + std::string(key) + "', '')"; }

std::string then_part(const char* key, const char* separator) {
  return "CASE WHEN " + address_part(key) + " <> '' THEN '" + separator + "' || " + address_part(key) + " ELSE '' END";
}

// base64url without padding, as the tokens use.
std::string base64url(const std::string& bytes_expr) {
  return "translate(encode(" + bytes_expr + ", 'base64'), E'+/=\\n', '-_')";
}

// Each sentinel and the SQL for the recipient's value (r: the recipient row with its link).
std::vector<std::pair<std::string, std::string>> recipient_values() {
  using namespace area_field;
  const std::string masked = "CASE WHEN length(r.account_id) > 4 THEN '****' || right(r.account_id, 4) ELSE r.account_id END";
  const std::string last4 = "CASE WHEN length(r.account_id) > 4 THEN right(r.account_id, 4) ELSE r.account_id END";
  const std::string one_line = address_part("line1") + " || " + then_part("line2", ", ") + " || " +
                               then_part("city", ", ") + " || " + then_part("state", ", ") + " || " +
                               then_part("zip", " ");
  return {{kCustomerId, "r.customer_id"},
          {kFirstName, "split_part(r.name, ' ', 1)"},
          {kName, "r.name"},
          {kAccountId, "r.account_id"},
          {kAccountMasked, masked},
          {kAccountLast4, last4},
          {kLine1, address_part("line1")},
          {kLine2, address_part("line2")},
          {kCity, address_part("city")},
          {kState, address_part("state")},
          {kZip, address_part("zip")},
          {kOneLine, one_line},
          {kUnsubscribeUrl, "r.url"}};
}

// `column` of the texts with every sentinel that occurs in any of them replaced; a text with
// none is copied as it is.
std::string substituted(const std::string& column, const std::vector<std::string>& texts, bool html) {
  std::string expr = column;
  for (const auto& [sentinel, value] : recipient_values()) {
    bool used = false;
    for (const auto& t : texts) used = used || t.find(sentinel) != std::string::npos;
    if (used) expr = "replace(" + expr + ", " + quote_literal(sentinel) + ", " + (html ? html_escaped(value) : value) + ")";
  }
  return expr;
}

// One chunk: recipients n in ($1, $2], joined to their send time and their text.
std::string chunk_sql(const AreaPlan& plan, const std::string& topic) {
  std::vector<std::string> subjects, bodies, htmls;
  for (const auto& t : plan.texts) {
    subjects.push_back(t.subject);
    bodies.push_back(t.body);
    htmls.push_back(t.html);
  }
  // The unsubscribe token of an email recipient: claims {a, c, ch, exp, t} signed as
  // sign_token does (HMAC-SHA256 over the base64url payload).
  const std::string claims = "convert_to('{\"a\":' || to_json(r.address)::text || ',\"c\":' || r.contact_id || "
                             "',\"ch\":\"email\",\"exp\":' || $9::bigint || ',\"t\":\"" + topic + "\"}', 'UTF8')";
  const std::string payload = base64url(claims);
  const std::string mac =
      base64url("sha256($11::bytea || sha256($10::bytea || convert_to(p.payload, 'UTF8')))");
  return R"SQL(
WITH timing AS (
  SELECT * FROM jsonb_to_recordset($3::jsonb)
    AS t(timezone text, quiet_enabled boolean, quiet_start integer, quiet_end integer, send_at timestamptz, reason text)
), texts AS (
  SELECT * FROM jsonb_to_recordset($4::jsonb)
    AS x(language text, channel text, rendered_language text, subject text, body text, html text, segments integer,
         encoding text, reason text)
), rcpt AS (
  SELECT r.*, t.send_at, x.rendered_language, x.subject, x.body, x.html, x.segments, x.encoding, tok.url,
         CASE WHEN r.consent = 'opted_out' THEN 'opted_out' WHEN x.reason <> '' THEN x.reason
              WHEN t.reason <> '' THEN t.reason END AS suppressed
  FROM area_recipients r
  JOIN timing t ON t.timezone = r.timezone AND t.quiet_enabled = r.quiet_enabled AND t.quiet_start = r.quiet_start
               AND t.quiet_end = r.quiet_end
  JOIN texts x ON x.language = r.language AND x.channel = r.channel
  CROSS JOIN LATERAL (SELECT CASE WHEN r.channel = 'email' AND $8 <> '' THEN )SQL" +
         payload + R"SQL( END AS payload) p
  CROSS JOIN LATERAL (SELECT CASE WHEN p.payload IS NOT NULL THEN $8 || p.payload || '.' || )SQL" + mac +
         R"SQL( ELSE '' END AS url) tok
  WHERE r.n > $1 AND r.n <= $2
), m AS (
  INSERT INTO herald.messages (event_seq, event_id, customer_id, account_id, contact_id, channel, address, type, topic,
                               language, priority, urgent, subject, body, html, unsubscribe_url, segments, encoding,
                               status, suppression_reason, decision, not_before, expires_at, created_at, updated_at)
  SELECT $5, $6, r.customer_id, r.account_id, r.contact_id, r.channel, r.address, 'notice.broadcast', $7,
         r.rendered_language, $12, $13, )SQL" +
         substituted("r.subject", subjects, false) + ", " + substituted("r.body", bodies, false) + ", " +
         substituted("r.html", htmls, true) + R"SQL(, r.url, r.segments, r.encoding,
         CASE WHEN r.suppressed IS NOT NULL THEN 'suppressed' WHEN r.send_at > $14::timestamptz THEN 'scheduled'
              ELSE 'queued' END,
         r.suppressed,
         $15::jsonb || jsonb_build_object('time_zone', r.timezone, 'consent', r.consent,
                                          'reason', coalesce(r.suppressed,
                                                             CASE WHEN r.send_at > $14::timestamptz
                                                                  THEN 'held_until_allowed_time' ELSE 'send_now' END)),
         CASE WHEN r.suppressed IS NULL THEN r.send_at END, NULLIF($16, '')::timestamptz, $14::timestamptz,
         $14::timestamptz
  FROM rcpt r
  ORDER BY r.n
  RETURNING id, status, not_before
), q AS (
  INSERT INTO herald.message_queue (message_id, due_at, lane)
  SELECT id, not_before, $17::smallint FROM m WHERE status IN ('queued', 'scheduled')
  RETURNING message_id
)
SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM q))SQL";
}

std::string bytea_hex(const std::string& bytes) {
  static const char* const digits = "0123456789abcdef";
  std::string out = "\\x";
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

Json timings_json(const AreaPlan& plan) {
  Json out = Json::array();
  for (const auto& t : plan.timings)
    out.push_back({{"timezone", t.key.timezone},
                   {"quiet_enabled", t.key.quiet_hours.enabled},
                   {"quiet_start", t.key.quiet_hours.start.minutes},
                   {"quiet_end", t.key.quiet_hours.end.minutes},
                   {"send_at", t.send_at ? Json(format_time(*t.send_at)) : Json(nullptr)},
                   {"reason", t.reason}});
  return out;
}

Json texts_json(const AreaPlan& plan) {
  Json out = Json::array();
  for (const auto& t : plan.texts)
    out.push_back({{"language", t.language},
                   {"channel", std::string(to_string(t.channel))},
                   {"rendered_language", t.rendered_language},
                   {"subject", t.subject},
                   {"body", t.body},
                   {"html", t.html},
                   {"segments", t.segments},
                   {"encoding", t.encoding},
                   {"reason", t.reason}});
  return out;
}

}  // namespace

std::optional<AreaNoticeOutcome> fan_out_area_notice(Database& db, const AreaNoticeRules& rules, TimePoint now,
                                                     std::size_t chunk_size) {
  chunk_size = std::max<std::size_t>(1, chunk_size);
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<AreaNoticeOutcome> {
    const auto claimed = w.exec(kClaim);
    if (claimed.empty()) return std::nullopt;
    const auto& row = claimed[0];
    Event e;
    e.seq = row[0].as<std::int64_t>();
    e.event_id = row[1].as<std::string>();
    e.type = row[2].as<std::string>();
    e.occurred_at = TimePoint(std::chrono::microseconds(row[3].as<long long>()));
    e.data = Json::parse(row[4].as<std::string>(), nullptr, false);
    if (e.data.is_discarded()) e.data = Json::object();
    AreaNoticeOutcome out;
    out.seq = e.seq;
    out.event_id = e.event_id;
    const auto stamp = format_time(now);

    auto query = rules.query(e);
    if (!query) {
      out.rejection = query.error();
      w.exec_params(kFinish, e.seq, "rejected", to_json(query.error())["error"].dump(), stamp);
      return out;
    }
    const auto& q = *query;
    Json defaults = Json::object();
    for (const auto& [topic, channels] : q.defaults.topics) {
      Json list = Json::array();
      for (auto c : channels) list.push_back(std::string(to_string(c)));
      defaults[std::string(to_string(topic))] = std::move(list);
    }
    w.exec(kCreateRecipients);
    w.exec_params(recipients_sql(q), to_pg_text_array(q.zips), to_pg_text_array(q.feeders),
                  to_pg_text_array(q.segments), to_pg_text_array(q.premise_ids), std::string(to_string(q.topic)),
                  defaults.dump(), q.defaults.language, q.default_language, q.defaults.quiet_hours.enabled,
                  q.defaults.quiet_hours.start.minutes, q.defaults.quiet_hours.end.minutes);
    w.exec(kIndexRecipients);

    AreaSummary summary;
    summary.recipients = w.exec(kCountRecipients)[0][0].as<std::size_t>();
    for (const auto& t : w.exec(kTimings)) {
      AreaQuietHours key;
      key.timezone = t[0].as<std::string>();
      key.quiet_hours.enabled = t[1].as<bool>();
      key.quiet_hours.start = LocalTime{t[2].as<int>()};
      key.quiet_hours.end = LocalTime{t[3].as<int>()};
      summary.timings.push_back(std::move(key));
    }
    for (const auto& t : w.exec(kTexts)) summary.texts.emplace_back(t[0].as<std::string>(), channel_of(t[1]));

    if (summary.recipients > 0) {
      const AreaPlan plan = rules.plan(e, summary);
      const auto sql = chunk_sql(plan, std::string(to_string(q.topic)));
      const auto timings = timings_json(plan).dump(), texts = texts_json(plan).dump();
      const auto inner = bytea_hex(plan.unsubscribe.inner_key), outer = bytea_hex(plan.unsubscribe.outer_key);
      const std::string expires = plan.expires_at ? format_time(*plan.expires_at) : std::string();
      for (std::size_t lo = 0; lo < summary.recipients; lo += chunk_size) {
        const auto counts = w.exec_params(
            sql, static_cast<long long>(lo), static_cast<long long>(lo + chunk_size), timings, texts, e.seq,
            e.event_id, std::string(to_string(q.topic)), plan.unsubscribe.prefix,
            static_cast<long long>(plan.unsubscribe.expires_unix), inner, outer, plan.priority, plan.urgent, stamp,
            plan.decision.dump(), expires, static_cast<int>(plan.lane));
        out.messages += counts[0][0].as<std::size_t>();
        out.queued += counts[0][1].as<std::size_t>();
      }
    }
    w.exec_params(kFinish, e.seq, "processed", std::string(), stamp);
    if (out.queued > 0) w.exec("NOTIFY herald_messages");
    return out;
  });
}

}  // namespace herald::store

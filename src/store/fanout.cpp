// The one set-based fan-out: an affected set of accounts joined to their customers, preferences
// and contacts in SQL, each recipient given its group's text and timing, written a chunk at a time.
#include <algorithm>

#include "fanout_internal.hpp"
#include "herald/domain/json_io.hpp"
#include "herald/domain/sms_encoding.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

std::string quote_literal(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Identifiers come from this module's callers (a table and column they name), never from input;
// quoted anyway so a temporary table's name cannot be read as SQL.
std::string quote_ident(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '.') {
      out += "\".\"";
      continue;
    }
    if (c == '"') out += '"';
    out += c;
  }
  return "\"" + out + "\"";
}

std::string html_escaped(const std::string& expr) {
  return "replace(replace(replace(replace(replace(" + expr +
         ", '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '\"', '&quot;'), '''', '&#39;')";
}

std::string address_part(const char* key) { return "coalesce(x.service_address->>'" + std::string(key) + "', '')"; }

std::string then_part(const char* key, const char* separator) {
  return "CASE WHEN " + address_part(key) + " <> '' THEN '" + separator + "' || " + address_part(key) + " ELSE '' END";
}

// base64url without padding, as the tokens use.
std::string base64url(const std::string& bytes_expr) {
  return "translate(encode(" + bytes_expr + ", 'base64'), E'+/=\\n', '-_')";
}

// Each sentinel and the SQL for the recipient's value (x: the recipient row with its link).
std::vector<std::pair<std::string, std::string>> recipient_values() {
  using namespace fanout_field;
  const std::string masked = "CASE WHEN length(x.account_id) > 4 THEN '****' || right(x.account_id, 4) ELSE x.account_id END";
  const std::string last4 = "CASE WHEN length(x.account_id) > 4 THEN right(x.account_id, 4) ELSE x.account_id END";
  const std::string one_line = address_part("line1") + " || " + then_part("line2", ", ") + " || " +
                               then_part("city", ", ") + " || " + then_part("state", ", ") + " || " +
                               then_part("zip", " ");
  return {{kCustomerId, "x.customer_id"},
          {kFirstName, "split_part(x.name, ' ', 1)"},
          {kName, "x.name"},
          {kAccountId, "x.account_id"},
          {kAccountMasked, masked},
          {kAccountLast4, last4},
          {kLine1, "coalesce(nullif(x.service_address->>'line1', ''), 'your service address')"},
          {kLine2, address_part("line2")},
          {kCity, address_part("city")},
          {kState, address_part("state")},
          {kZip, address_part("zip")},
          {kOneLine, one_line},
          {kUnsubscribeUrl, "x.url"}};
}

// `column` of the texts with every sentinel that occurs in any of them replaced; texts with
// none are copied as they are.
std::string substituted(const std::string& column, const std::vector<const std::string*>& texts, bool html) {
  std::string expr = column;
  for (const auto& [sentinel, value] : recipient_values()) {
    bool used = false;
    for (const auto* t : texts) used = used || t->find(sentinel) != std::string::npos;
    if (used) expr = "replace(" + expr + ", " + quote_literal(sentinel) + ", " + (html ? html_escaped(value) : value) + ")";
  }
  return expr;
}

// The recipient's language, time zone, quiet hours and channels for the topic, as rules/decide
// reads them (recipient_language: preferences, account, customer, default). $4 topic, $5 the
// default channels, $6 the default language, $7..$9 the default quiet hours.
#define HERALD_FANOUT_RECIPIENT                                                                                \
  "a.account_id, a.customer_id, a.timezone, a.service_address, c.name,"                                       \
  " coalesce(nullif(p.language, ''), nullif(a.language, ''), nullif(c.language, ''), $6) AS lang,"            \
  " coalesce(p.quiet_hours_enabled, $7::boolean) AS qe, coalesce(p.quiet_start, $8::smallint)::integer AS qs," \
  " coalesce(p.quiet_end, $9::smallint)::integer AS qn,"                                                       \
  " CASE WHEN jsonb_typeof(coalesce(p.topics -> $4::text, $5::jsonb)) = 'array'"                               \
  "  THEN coalesce(p.topics -> $4::text, $5::jsonb) ELSE '[]'::jsonb END AS channels"                         \
  " FROM herald.accounts a JOIN herald.customers c ON c.customer_id = a.customer_id"                          \
  " LEFT JOIN herald.preferences p ON p.customer_id = a.customer_id"

std::string groups_sql(const AffectedSet& set) {
  return "SELECT r.lang, r.timezone, r.qe, r.qs, r.qn FROM (SELECT " HERALD_FANOUT_RECIPIENT
         " JOIN " + quote_ident(set.table) + " s ON s.account_id = a.account_id"
         " WHERE s." + quote_ident(set.key_column) + " = $1 AND a.active"
         " AND $2::text IS NOT NULL AND $3::bigint IS NOT NULL) r GROUP BY 1, 2, 3, 4, 5";
}

// One chunk (see write_fanout_chunk). Parameters: $1 key, $2 cursor, $3 chunk size, $4..$9 the
// audience, $10 texts, $11 timings, $12 now, $13 event seq (0: none), $14 event id, $15 outage
// ('' none), $16 type, $17 priority, $18 urgent, $19 expires at ('' none), $20 lane, $21 the
// rule's decision, $22..$25 the unsubscribe signing, $26 replace queued messages of the outage,
// $27 the last account of the range ('' none: a notice's part, store/outage_fanout.cpp).
std::string chunk_sql(const AffectedSet& set, const FanoutPlan& plan, const std::string& topic, bool replace) {
  std::vector<const std::string*> subjects, bodies, htmls;
  for (const auto& t : plan.texts) {
    subjects.push_back(&t.subject);
    bodies.push_back(&t.body);
    htmls.push_back(&t.html);
  }
  // The unsubscribe token of an email recipient: claims {a, c, ch, exp, t} signed as
  // sign_token does (HMAC-SHA256 over the base64url payload).
  const std::string claims = "convert_to('{\"a\":' || to_json(x.address)::text || ',\"c\":' || x.contact_id || "
                             "',\"ch\":\"email\",\"exp\":' || $23::bigint || ',\"t\":\"" + topic + "\"}', 'UTF8')";
  const std::string payload = base64url(claims);
  const std::string mac = base64url("sha256($25::bytea || sha256($24::bytea || convert_to(pl.payload, 'UTF8')))");
  // Plain GSM-7 characters of one unit each: a body of only these is counted in SQL.
  const std::string gsm_plain = "'^[A-Za-z0-9 @$!\"#%&''()*+,./:;<=>?_\\n\\r-]*$'";
  // The chunk is read in the order of the set's key (key, account_id), so it is one range of
  // that index, however large the set: sorting the whole set for each chunk made a fan-out
  // quadratic in its size.
  const std::string key = "s." + quote_ident(set.key_column);
  return R"SQL(
WITH chunk AS (
  SELECT s.account_id FROM )SQL" + quote_ident(set.table) + " s WHERE " + key +
         R"SQL( = $1 AND s.account_id > $2 AND ($27::text = '' OR s.account_id <= $27::text)
  ORDER BY )SQL" + key + R"SQL(, s.account_id LIMIT $3
), r AS (
  -- Each account of the chunk looked up by its key (OFFSET 0 keeps the subquery apart, so the
  -- planner cannot turn it into a join): joined as one set, the chunk's 5,000 accounts were
  -- hashed against a scan of every account, customer and preference row, once per chunk, so a
  -- fan-out's time grew with the whole customer base for each chunk.
  SELECT rr.* FROM chunk CROSS JOIN LATERAL (
    SELECT )SQL" HERALD_FANOUT_RECIPIENT R"SQL(
    WHERE a.account_id = chunk.account_id AND a.active
    OFFSET 0) rr
), rcon AS (
  -- Each account's contact per channel as intake picks it (active, verified, an opted-in one
  -- first): one index probe per account, not one per channel.
  SELECT r.account_id, x.channel, x.contact_id, x.address, x.consent
  FROM r CROSS JOIN LATERAL (SELECT DISTINCT ON (ct.channel) ct.channel, ct.contact_id, ct.address, ct.consent
                             FROM herald.contacts ct
                             WHERE ct.customer_id = r.customer_id AND ct.active AND ct.verified
                             ORDER BY ct.channel, (ct.consent = 'opted_in') DESC, ct.contact_id) x
), rc AS (
  -- One row per channel chosen for the topic.
  SELECT r.*, ch.channel, c.contact_id, c.address, c.consent,
         CASE WHEN c.contact_id IS NULL THEN 'no_contact' WHEN c.consent = 'opted_out' THEN 'opted_out' END AS blocked
  FROM r CROSS JOIN LATERAL jsonb_array_elements_text(r.channels) AS ch(channel)
  LEFT JOIN rcon c ON c.account_id = r.account_id AND c.channel = ch.channel
  UNION ALL
  -- No channel on for the topic: one row on the first channel the customer can be reached on.
  (SELECT DISTINCT ON (r.account_id) r.*, coalesce(c.channel, 'sms'), c.contact_id, c.address, c.consent,
          'preference_off'
   FROM r LEFT JOIN rcon c ON c.account_id = r.account_id
   WHERE jsonb_array_length(r.channels) = 0
   ORDER BY r.account_id, array_position(ARRAY['sms', 'email', 'voice'], c.channel))
), t AS (
  SELECT * FROM jsonb_to_recordset($10::jsonb) AS t(language text, timezone text, channel text,
    rendered_language text, subject text, body text, html text, ucs2 boolean, reason text)
), tm AS (
  -- The explanation of a message sent through an opted-in contact is the same for the whole
  -- group: built once here, not per recipient.
  SELECT tm.*, $21::jsonb || tm.explanation || jsonb_build_object('consent', 'opted_in', 'reason', tm.reason)
           AS sent_decision
  FROM jsonb_to_recordset($11::jsonb) AS tm(timezone text, quiet_enabled boolean, quiet_start integer,
    quiet_end integer, status text, not_before timestamptz, reason text, explanation jsonb)
), x AS (
  SELECT rc.*, t.rendered_language, t.subject, t.body, t.html, t.ucs2, tm.status AS timing_status, tm.not_before,
         tm.reason AS timing_reason, tm.explanation, tm.sent_decision,
         coalesce(rc.blocked, nullif(t.reason, ''), CASE WHEN tm.status = 'suppressed' THEN tm.reason END) AS suppressed
  FROM rc
  LEFT JOIN t ON t.language = rc.lang AND t.timezone = rc.timezone AND t.channel = rc.channel
  LEFT JOIN tm ON tm.timezone = rc.timezone AND tm.quiet_enabled = rc.qe AND tm.quiet_start = rc.qs
              AND tm.quiet_end = rc.qn
  -- A group the notice was not rendered for (its settings changed since): not this notice's.
  WHERE rc.blocked IS NOT NULL OR (t.channel IS NOT NULL AND tm.timezone IS NOT NULL)
), xu AS (
  SELECT x.*, CASE WHEN pl.payload IS NOT NULL THEN $22::text || pl.payload || '.' || )SQL" + mac + R"SQL( ELSE '' END AS url
  FROM x CROSS JOIN LATERAL (SELECT CASE WHEN x.channel = 'email' AND x.suppressed IS NULL AND $22::text <> ''
                                         THEN )SQL" + payload + R"SQL( END AS payload) pl
), msg AS (
  SELECT x.*, s.subject AS m_subject, s.body AS m_body, s.html AS m_html,
         CASE WHEN x.channel <> 'sms' OR s.body = '' THEN 0
              WHEN s.body ~ )SQL" + gsm_plain + R"SQL( THEN
                CASE WHEN length(s.body) <= 160 THEN 1 ELSE ceil(length(s.body) / 153.0)::integer END
              WHEN x.ucs2 AND s.body !~ '[\U00010000-\U0010FFFF]' THEN
                CASE WHEN length(s.body) <= 70 THEN 1 ELSE ceil(length(s.body) / 67.0)::integer END
              ELSE -1 END AS segments,
         CASE WHEN x.channel <> 'sms' OR s.body = '' THEN ''
              WHEN s.body ~ )SQL" + gsm_plain + R"SQL( THEN 'GSM-7'
              WHEN x.ucs2 AND s.body !~ '[\U00010000-\U0010FFFF]' THEN 'UCS-2'
              ELSE '' END AS encoding
  FROM xu x CROSS JOIN LATERAL (
    SELECT coalesce(CASE WHEN x.blocked IS NULL THEN )SQL" + substituted("x.subject", subjects, false) +
         R"SQL( END, '') AS subject,
           coalesce(CASE WHEN x.blocked IS NULL THEN )SQL" + substituted("x.body", bodies, false) +
         R"SQL( END, '') AS body,
           coalesce(CASE WHEN x.blocked IS NULL THEN )SQL" + substituted("x.html", htmls, true) +
         R"SQL( END, '') AS html) s
)SQL" + (replace ? R"SQL(), old AS (
  -- This recipient's message of the same outage, still queued and not leased: it gets this text.
  -- The queue row is locked (SKIP LOCKED: a dispatcher about to lease it goes on, and then this
  -- notice writes a new message).
  SELECT m.id, msg.rendered_language, msg.m_subject, msg.m_body, msg.m_html, msg.url, msg.segments, msg.encoding
  FROM msg JOIN herald.messages m ON m.outage_id = NULLIF($15, '') AND m.account_id = msg.account_id
                                 AND m.channel = msg.channel
  JOIN herald.message_queue q ON q.message_id = m.id
  WHERE $26::boolean AND msg.suppressed IS NULL AND q.lease_owner IS NULL AND m.status IN ('queued', 'scheduled')
    AND m.event_id <> $14
  FOR UPDATE OF q SKIP LOCKED
), upd AS (
  UPDATE herald.messages m SET event_id = $14, type = $16, language = old.rendered_language, subject = old.m_subject,
    body = old.m_body, html = old.m_html, unsubscribe_url = old.url, segments = old.segments, encoding = old.encoding,
    expires_at = NULLIF($19, '')::timestamptz,
    decision = m.decision || jsonb_build_object('replaced', jsonb_build_object('type', m.type,
      'event_id', m.event_id, 'at', $12::timestamptz)),
    updated_at = $12::timestamptz
  FROM old WHERE m.id = old.id
  RETURNING m.id, m.account_id, m.channel, m.segments
)SQL" : R"SQL(
), upd AS (
  -- Nothing to replace: msg is read once and not materialized.
  SELECT NULL::bigint AS id, NULL::text AS account_id, NULL::text AS channel, NULL::integer AS segments
  WHERE $26::boolean AND false
)SQL") + R"SQL(), ins AS (
  INSERT INTO herald.messages (event_seq, event_id, customer_id, account_id, contact_id, channel, address, type, topic,
                               language, priority, urgent, subject, body, html, unsubscribe_url, segments, encoding,
                               status, suppression_reason, decision, not_before, expires_at, created_at, updated_at,
                               outage_id)
  SELECT NULLIF($13::bigint, 0), $14, msg.customer_id, msg.account_id, msg.contact_id, msg.channel,
         coalesce(msg.address, ''), $16, $4, coalesce(msg.rendered_language, msg.lang), $17::smallint, $18::boolean,
         msg.m_subject, msg.m_body, msg.m_html, msg.url, msg.segments, msg.encoding,
         CASE WHEN msg.suppressed IS NOT NULL THEN 'suppressed' ELSE msg.timing_status END, msg.suppressed,
         CASE WHEN msg.suppressed IS NULL AND msg.consent = 'opted_in' THEN msg.sent_decision
              ELSE $21::jsonb || coalesce(msg.explanation, jsonb_build_object('time_zone', msg.timezone))
                   || CASE WHEN msg.consent IS NOT NULL THEN jsonb_build_object('consent', msg.consent) ELSE '{}' END
                   || jsonb_build_object('reason', coalesce(msg.suppressed, msg.timing_reason)) END,
         CASE WHEN msg.suppressed IS NULL THEN msg.not_before END, NULLIF($19, '')::timestamptz, $12::timestamptz,
         $12::timestamptz, NULLIF($15, '')
  FROM msg
  WHERE NOT EXISTS (SELECT 1 FROM upd WHERE upd.account_id = msg.account_id AND upd.channel = msg.channel)
    -- An outage records why a recipient does not hear once, not with every update.
    AND (msg.suppressed IS NULL OR $15 = ''
         OR NOT EXISTS (SELECT 1 FROM herald.messages m WHERE m.outage_id = $15 AND m.account_id = msg.account_id
                        AND m.channel = msg.channel AND m.status = 'suppressed'
                        AND m.suppression_reason = msg.suppressed))
  RETURNING id, status, not_before, segments
), queued AS (
  INSERT INTO herald.message_queue (message_id, due_at, lane)
  SELECT id, not_before, $20::smallint FROM ins WHERE status IN ('queued', 'scheduled')
  RETURNING message_id
)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM queued), (SELECT count(*) FROM chunk),
       coalesce((SELECT max(account_id) FROM chunk), ''), (SELECT count(*) FROM upd),
       (SELECT coalesce(array_agg(id), '{}') FROM (SELECT id FROM ins WHERE segments < 0
                                                  UNION ALL SELECT id FROM upd WHERE segments < 0) s)::text,
       (SELECT coalesce(array_agg(id), '{}') FROM upd)::text)SQL";
}

// A chunk's recipient rows are about 1 kB wide (texts, explanation); the default work_mem
// spilled them to temporary files. JIT off: the planner's estimates for the JSON set functions
// put the statement far above jit_above_cost, and compiling it took Postgres 9 s per chunk.
const char* const kSettings = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off";

const char* const kUncountedBodies = "SELECT id, body FROM herald.messages WHERE id = ANY($1::bigint[])";
const char* const kSetSegments = R"SQL(
UPDATE herald.messages m SET segments = x.segments, encoding = x.encoding
FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, segments integer, encoding text)
WHERE m.id = x.id)SQL";

// The search index (0018) holds a message's text from when the indexer passed it; a text
// replaced in place is written there too. Taking the indexer's state row first waits for a
// round in progress (which may have read the old text) and keeps the next round from starting
// before this commits; messages above the watermark have no row yet and are indexed later. The
// row is written as the indexer writes it (0020): lower-cased, with the type the new text has.
const char* const kLockTextIndex = "SELECT 1 FROM herald.message_text_state FOR SHARE";
const char* const kReindexReplaced = R"SQL(
UPDATE herald.message_text t SET text = lower(m.subject || ' ' || m.body), type = m.type, topic = m.topic
FROM herald.messages m WHERE m.id = ANY($1::bigint[]) AND t.message_id = m.id)SQL";

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

std::string default_channels(const FanoutAudience& a) {
  Json out = Json::array();
  if (auto it = a.defaults.topics.find(a.topic); it != a.defaults.topics.end())
    for (Channel c : it->second) out.push_back(std::string(to_string(c)));
  return out.dump();
}

std::string default_language(const FanoutAudience& a) {
  return a.defaults.language.empty() ? a.default_language : a.defaults.language;
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

Json texts_json(const FanoutPlan& plan) {
  Json out = Json::array();
  for (const auto& t : plan.texts)
    out.push_back({{"language", t.language},
                   {"timezone", t.timezone},
                   {"channel", std::string(to_string(t.channel))},
                   {"rendered_language", t.rendered_language},
                   {"subject", t.subject},
                   {"body", t.body},
                   {"html", t.html},
                   {"ucs2", t.ucs2},
                   {"reason", t.reason}});
  return out;
}

Json timings_json(const FanoutPlan& plan) {
  Json out = Json::array();
  for (const auto& t : plan.timings)
    out.push_back({{"timezone", t.timezone},
                   {"quiet_enabled", t.quiet_hours.enabled},
                   {"quiet_start", t.quiet_hours.start.minutes},
                   {"quiet_end", t.quiet_hours.end.minutes},
                   {"status", t.status},
                   {"not_before", format_time(t.not_before)},
                   {"reason", t.reason},
                   {"explanation", t.explanation}});
  return out;
}

template <typename T>
T value_or(const Json& j, const char* key, T fallback) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) {
    try {
      return it->get<T>();
    } catch (const Json::exception&) {
    }
  }
  return fallback;
}

}  // namespace

Json to_json(const FanoutPlan& plan) {
  return {{"type", plan.type},
          {"priority", plan.priority},
          {"urgent", plan.urgent},
          {"lane", static_cast<int>(plan.lane)},
          {"expires_at", plan.expires_at ? Json(format_time(*plan.expires_at)) : Json(nullptr)},
          {"decision", plan.decision},
          {"texts", texts_json(plan)},
          {"timings", timings_json(plan)}};
}

std::optional<FanoutPlan> fanout_plan_of(const Json& j) {
  if (!j.is_object() || !j.contains("timings") || !j["timings"].is_array() || !j.contains("texts") ||
      !j["texts"].is_array())
    return std::nullopt;
  FanoutPlan p;
  p.type = value_or<std::string>(j, "type", "");
  p.priority = value_or<int>(j, "priority", 0);
  p.urgent = value_or<bool>(j, "urgent", false);
  p.lane = static_cast<Lane>(std::clamp(value_or<int>(j, "lane", 2), 0, 3));
  if (auto e = value_or<std::string>(j, "expires_at", ""); !e.empty()) p.expires_at = parse_time(e);
  p.decision = j.value("decision", Json::object());
  for (const auto& t : j["texts"]) {
    FanoutText x;
    x.language = value_or<std::string>(t, "language", "");
    x.timezone = value_or<std::string>(t, "timezone", "");
    x.channel = parse_channel(value_or<std::string>(t, "channel", "sms")).value_or(Channel::sms);
    x.rendered_language = value_or<std::string>(t, "rendered_language", "");
    x.subject = value_or<std::string>(t, "subject", "");
    x.body = value_or<std::string>(t, "body", "");
    x.html = value_or<std::string>(t, "html", "");
    x.ucs2 = value_or<bool>(t, "ucs2", false);
    x.reason = value_or<std::string>(t, "reason", "");
    p.texts.push_back(std::move(x));
  }
  for (const auto& t : j["timings"]) {
    FanoutTiming x;
    x.timezone = value_or<std::string>(t, "timezone", "");
    x.quiet_hours.enabled = value_or<bool>(t, "quiet_enabled", false);
    x.quiet_hours.start.minutes = value_or<int>(t, "quiet_start", 0);
    x.quiet_hours.end.minutes = value_or<int>(t, "quiet_end", 0);
    x.status = value_or<std::string>(t, "status", "suppressed");
    x.not_before = parse_time(value_or<std::string>(t, "not_before", "")).value_or(TimePoint{});
    x.reason = value_or<std::string>(t, "reason", "");
    x.explanation = t.value("explanation", Json::object());
    p.timings.push_back(std::move(x));
  }
  return p;
}

std::vector<FanoutGroup> fanout_groups(pqxx::transaction_base& w, const AffectedSet& set,
                                       const FanoutAudience& audience) {
  const auto& qh = audience.defaults.quiet_hours;
  std::vector<FanoutGroup> out;
  w.exec(kSettings);
  // $2 and $3 are unused here; the recipient columns are numbered as in the chunk statement.
  for (const auto& row : w.exec_params(groups_sql(set), set.key, std::string(), 0LL, std::string(to_string(audience.topic)),
                                       default_channels(audience), default_language(audience), qh.enabled,
                                       qh.start.minutes, qh.end.minutes)) {
    FanoutGroup g;
    g.language = row[0].c_str();
    g.timezone = row[1].c_str();
    g.quiet_hours.enabled = row[2].as<bool>();
    g.quiet_hours.start.minutes = row[3].as<int>();
    g.quiet_hours.end.minutes = row[4].as<int>();
    out.push_back(std::move(g));
  }
  return out;
}

FanoutChunkResult write_fanout_chunk(pqxx::transaction_base& w, const FanoutChunkSpec& spec) {
  const auto& plan = *spec.plan;
  const auto& a = spec.audience;
  const auto& qh = a.defaults.quiet_hours;
  const auto topic = std::string(to_string(a.topic));
  w.exec(kSettings);
  const auto r = w.exec_params1(
      chunk_sql(spec.set, plan, topic, spec.replace_queued), spec.set.key, spec.cursor, static_cast<long long>(spec.accounts), topic,
      default_channels(a), default_language(a), qh.enabled, qh.start.minutes, qh.end.minutes,
      texts_json(plan).dump(), timings_json(plan).dump(), format_time(spec.now),
      static_cast<long long>(spec.event_seq.value_or(0)), spec.event_id, spec.outage_id, plan.type, plan.priority,
      plan.urgent, plan.expires_at ? format_time(*plan.expires_at) : std::string(), static_cast<int>(plan.lane),
      plan.decision.dump(), spec.signing.prefix, static_cast<long long>(spec.signing.expires_unix),
      bytea_hex(spec.signing.inner_key), bytea_hex(spec.signing.outer_key), spec.replace_queued, spec.through);
  FanoutChunkResult out;
  out.created = r[0].as<std::size_t>();
  out.queued = r[1].as<std::size_t>();
  out.accounts = r[2].as<std::size_t>();
  out.last_account = r[3].c_str();
  out.replaced = r[4].as<std::size_t>();
  count_segments(w, r[5].c_str());
  if (out.replaced > 0) {
    w.exec(kLockTextIndex);
    w.exec_params(kReindexReplaced, std::string(r[6].c_str()));
  }
  return out;
}

}  // namespace herald::store

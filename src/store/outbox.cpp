// Outbox SQL: lease due messages in batches, write send outcomes and attempts, release leases.
#include "herald/store/outbox.hpp"

#include <set>

#include "opt_out.hpp"
#include "pg.hpp"
#include "pg_array.hpp"
#include "queue_sql.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

// Leasing rewrites only the queue row; the message itself is read, not written. Its status
// stays scheduled/queued until the first attempt's outcome is recorded. A lease is
// lease_owner and leased_until, which no index covers, and due_at stays as it was (0026): the
// new row version is then a HOT update that writes no index entry. A row leased until later is
// still in its lane's due range and is passed over (the rows of the rounds in flight); a
// lapsed lease is taken as an unleased row is, in its old due order.
// The due rows are picked by an InitPlan that runs once: as a joined subquery, a plan made on
// stale statistics (the queue was empty a moment ago) could rescan it once per queue row.
// Lanes (0017) are taken highest first: one index range scan of (lane, due_at) per lane, each
// limited to what the batch still has room for (LIMIT 0 never starts its scan), so a lower
// lane is read only when the higher ones hold fewer due rows than the batch, and nothing is
// sorted. Each lane is its own materialized step: FOR UPDATE is not allowed in a UNION, and
// an inlined step would be evaluated once per reference.
const std::string kClaim = [] {
  std::string lanes;
  for (Lane lane : kAllLanes) {
    const auto l = std::to_string(static_cast<int>(lane));
    const std::string pick =
        "ARRAY(SELECT message_id FROM herald.message_queue WHERE lane = " + l +
        " AND due_at <= $3::timestamptz AND " + queue_row_free("", "$3::timestamptz") +
        " ORDER BY due_at LIMIT $2" + (lane == Lane::verification ? "" : " - cardinality(p.ids)") +
        " FOR UPDATE SKIP LOCKED)";
    if (lane == Lane::verification) {
      lanes += "lane" + l + " AS MATERIALIZED (SELECT " + pick + " AS ids),\n";
    } else {
      lanes += "lane" + l + " AS MATERIALIZED (SELECT p.ids || " + pick + " AS ids FROM lane" +
               std::to_string(static_cast<int>(lane) - 1) + " p),\n";
    }
  }
  return "WITH " + lanes + "leased AS (" + R"SQL(
  UPDATE herald.message_queue
  SET leased_until = $3::timestamptz + make_interval(secs => $4), lease_owner = $1
  WHERE message_id = ANY((SELECT ids FROM lane)SQL" + std::to_string(static_cast<int>(Lane::standard)) + R"SQL()::bigint[])
  RETURNING message_id, lane
)
SELECT m.id, m.event_seq, m.event_id, m.customer_id, m.account_id, coalesce(m.contact_id, 0), m.channel,
       m.address, m.type, m.topic, m.language, m.subject, m.body, m.html, m.unsubscribe_url, m.attempts,
       coalesce(m.gateway, ''), m.priority, m.urgent,
       (extract(epoch FROM m.expires_at) * 1000000)::bigint,
       m.expires_at IS NOT NULL AND m.expires_at <= $3::timestamptz, leased.lane
FROM leased JOIN herald.messages m ON m.id = leased.message_id
ORDER BY leased.lane, m.id)SQL";
}();

// Only rows still leased by this owner count. An update with a due_at puts the message back
// in the queue (retry, failover, deferral) and ends the lease; one without ends the message
// and removes the queue row.
// The message row is written only when something about it changed: an attempt was made or
// it ended. A deferral (rate limit, open circuit, end of the round) touches the queue alone.
// An attempt is recorded only for a message this statement updated: with no foreign key
// (0021), that is what keeps an attempt from outliving a message deleted meanwhile.
const char* const kRecord = R"SQL(
WITH x AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::boolean[], $10::integer[], $11::text[], $12::timestamptz[], $13::integer[],
                       $14::integer[], $15::text[], $16::text[], $17::jsonb[])
    AS x(id, status, due_at, gateway, next_gateway, provider_id, suppression_reason, last_error, attempted, attempt,
         outcome, started_at, duration_ms, http_status, error_code, detail, conversation)
), ended AS (
  DELETE FROM herald.message_queue q
  USING x
  WHERE q.message_id = x.id AND q.lease_owner = $18 AND x.due_at IS NULL
  RETURNING q.message_id AS id
), requeued AS (
  UPDATE herald.message_queue q
  SET due_at = x.due_at, lease_owner = NULL, leased_until = NULL
  FROM x
  WHERE q.message_id = x.id AND q.lease_owner = $18 AND x.due_at IS NOT NULL
  RETURNING q.message_id AS id
), mine AS (
  SELECT id FROM ended UNION ALL SELECT id FROM requeued
), upd AS (
  UPDATE herald.messages m
  SET status = x.status,
      gateway = coalesce(x.next_gateway, x.gateway, m.gateway),
      provider_id = coalesce(x.provider_id, m.provider_id),
      suppression_reason = coalesce(x.suppression_reason, m.suppression_reason),
      last_error = coalesce(x.last_error, m.last_error),
      attempts = m.attempts + CASE WHEN x.attempted THEN 1 ELSE 0 END,
      sent_at = CASE WHEN x.status = 'sent' THEN $19::timestamptz ELSE m.sent_at END,
      updated_at = $19::timestamptz
  FROM x JOIN mine USING (id)
  WHERE m.id = x.id AND (x.attempted OR x.due_at IS NULL)
  RETURNING m.id
), attempts AS (
  INSERT INTO herald.message_attempts (message_id, attempt, gateway, started_at, duration_ms, outcome, http_status,
                                       error_code, detail, provider_id)
  SELECT x.id, x.attempt, x.gateway, x.started_at, x.duration_ms, x.outcome, x.http_status, x.error_code,
         coalesce(x.detail, ''), x.provider_id
  FROM x JOIN upd USING (id)
  WHERE x.attempted
), conversations AS (
  INSERT INTO herald.conversations (message_id, channel, address, customer_id, account_id, expected, context,
                                    opened_at, expires_at)
  SELECT m.id, m.channel, m.address, m.customer_id, m.account_id, x.conversation->'expected',
         jsonb_build_object('message_id', m.id, 'type', m.type, 'event_id', m.event_id,
                            'data', coalesce(e.data, '{}'::jsonb)),
         $19::timestamptz, $19::timestamptz + make_interval(secs => (x.conversation->>'ttl_seconds')::double precision)
  FROM x JOIN mine USING (id) JOIN herald.messages m ON m.id = x.id LEFT JOIN herald.events e ON e.seq = m.event_seq
  WHERE x.status = 'sent' AND x.conversation IS NOT NULL AND jsonb_typeof(x.conversation) = 'object'
)
SELECT id FROM mine)SQL";

const char* const kRecordName = "herald_record_dispatch";

// Takes the consent buckets of the opt-outs a provider reported, in bucket order, before the
// statement above locks any queue row (0006, 0007).
const char* const kLockConsentBuckets = "SELECT herald.consent_lock_contacts($1::jsonb)";

// The dispatch side of 0007's ordering: the caller holds these messages' queue rows; the
// function takes their consent buckets shared and then reads consent.
const char* const kOptedOut = "SELECT herald.opted_out_messages($1::bigint[])";
// The same for the claim, which has read the messages' addresses already (0021).
const char* const kOptedOutAddresses =
    "SELECT herald.opted_out_addresses($1::bigint[], $2::text[], $3::text[])";

// A worker's queue rows are written by more than one of its transactions at a time: the
// heartbeat renews the whole batch while each gateway's thread checks and records its own
// chunk. Each of them locks its rows first, in message id order, so two of them can never
// wait on each other in a cycle (an UPDATE or DELETE joined to a list locks in plan order).
const char* const kLockOwnRows = R"SQL(
SELECT message_id FROM herald.message_queue
WHERE lease_owner = $1 AND message_id = ANY($2::bigint[])
ORDER BY message_id
FOR UPDATE)SQL";

// Renews this owner's leases of the rows of $2, narrowed by `only` (a further condition on the
// row, "" for none), to $3 + $4 seconds. A lapsed lease not yet taken by another instance is
// still this owner's: renewing it locks the row first, and a competing claim (SKIP LOCKED, then
// leased_until re-checked) passes it by. Like the claim, a renewal changes no indexed column (HOT).
std::string renewal(const std::string& only) {
  return R"SQL(UPDATE herald.message_queue
  SET leased_until = $3::timestamptz + make_interval(secs => $4)
  WHERE message_id IN (SELECT message_id FROM herald.message_queue
                       WHERE lease_owner = $1 AND message_id = ANY($2::bigint[]))SQL" +
         only + R"SQL(
                       ORDER BY message_id FOR UPDATE)
    AND lease_owner = $1
  RETURNING message_id)SQL";
}

const std::string kRenew = renewal("");

// The check before a chunk: the rows of `ids` still leased by this owner. A lease with at
// least half its time left is only read: no other instance may claim the row before it lapses
// and an opt-out passes leased rows by (0007), so the chunk sent right after this is covered.
// Only older leases are renewed; a fresh claim's rows, most of a round, are then not written a
// second time (each write is a new queue row version and its WAL).
const std::string kCheckLeases = R"SQL(
WITH fresh AS (
  SELECT message_id FROM herald.message_queue
  WHERE lease_owner = $1 AND message_id = ANY($2::bigint[])
    AND leased_until >= $3::timestamptz + make_interval(secs => $4 / 2)
), renewed AS ()SQL" + renewal(" AND leased_until < $3::timestamptz + make_interval(secs => $4 / 2)") + R"SQL(
)
SELECT message_id FROM fresh UNION ALL SELECT message_id FROM renewed)SQL";

// Whether a row of a lane above `lane` is due (leased rows are due only when their lease has
// lapsed): one index range of (lane, due_at) per higher lane, passing over the few rows leased
// by rounds in flight as the claim does. Empty for the top lane.
std::string higher_lane_due_query(Lane lane) {
  std::string sql;
  for (int l = 0; l < static_cast<int>(lane); ++l)
    sql += std::string(sql.empty() ? "SELECT " : " OR ") +
           "EXISTS (SELECT 1 FROM herald.message_queue WHERE lane = " + std::to_string(l) +
           " AND due_at <= $1::timestamptz AND " + queue_row_free("", "$1::timestamptz") + ")";
  return sql;
}

// Of `ids` (whose queue rows this transaction holds), those whose address is opted out.
std::set<std::int64_t> opted_out_of(pqxx::transaction_base& t, const std::vector<std::int64_t>& ids) {
  std::set<std::int64_t> out;
  if (ids.empty()) return out;
  for (const auto& row : t.exec_params(kOptedOut, number_array(ids))) out.insert(row[0].as<std::int64_t>());
  return out;
}

// A leased row's due_at is still the time it came due (0026), so a released row is due at
// once, in its old place in its lane.
const char* const kRelease = R"SQL(
UPDATE herald.message_queue SET lease_owner = NULL, leased_until = NULL
WHERE lease_owner = $1)SQL";

// Messages still to go out, by status.
const char* const kQueueDepth = R"SQL(
SELECT m.status, count(*)
FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id
GROUP BY m.status)SQL";

std::string_view to_string(AttemptOutcome o) {
  switch (o) {
    case AttemptOutcome::sent: return "sent";
    case AttemptOutcome::retry: return "retry";
    case AttemptOutcome::failover: return "failover";
    case AttemptOutcome::failed: return "failed";
  }
  return "failed";
}

// The record statement's rows, a column at a time ($1..$17): typed arrays that Postgres reads
// element by element. As one JSON document per batch, parsing it (objects built, keys sorted,
// numbers read as numeric, then each field looked up and cast) cost Postgres 9.6 µs per
// message against 2.6 µs for the arrays.
struct RecordColumns {
  ArrayLiteral id, status, due_at, gateway, next_gateway, provider_id, suppression_reason, last_error, attempted,
      attempt, outcome, started_at, duration_ms, http_status, error_code, detail, conversation;
};

RecordColumns record_columns(const std::vector<MessageUpdate>& updates) {
  RecordColumns c;
  for (const auto& u : updates) {
    c.id.number(u.id);
    c.status.text(to_string(u.status));
    if (u.due_at) c.due_at.text(format_time(*u.due_at));
    else c.due_at.null();
    c.gateway.text_or_null(u.gateway);
    c.next_gateway.text_or_null(u.next_gateway);
    c.provider_id.text_or_null(u.provider_id);
    c.suppression_reason.text_or_null(u.suppression_reason);
    c.last_error.text_or_null(u.last_error);
    c.attempted.boolean(u.attempted);
    c.attempt.number(u.attempt);
    c.outcome.text(to_string(u.outcome));
    c.started_at.text(format_time(u.started_at));
    c.duration_ms.number(u.duration_ms);
    if (u.http_status == 0) c.http_status.null();
    else c.http_status.number(u.http_status);
    c.error_code.text_or_null(u.error_code);
    c.detail.text(u.detail);
    if (u.conversation.is_null()) c.conversation.null();
    else c.conversation.text(u.conversation.dump());
  }
  return c;
}

}  // namespace

std::vector<ClaimedMessage> claim_due_messages(Database& db, const std::string& owner, std::size_t limit,
                                               TimePoint now, std::chrono::seconds lease) {
  return in_transaction(db, [&](pqxx::work& w) {
    std::vector<ClaimedMessage> out;
    const auto rows = w.exec_params(kClaim.c_str(), owner, static_cast<long long>(limit), format_time(now),
                                    static_cast<double>(lease.count()));
    out.reserve(rows.size());
    std::vector<std::int64_t> ids;
    std::vector<std::string> channels, addresses;  // as stored, for the consent check
    ids.reserve(rows.size());
    channels.reserve(rows.size());
    addresses.reserve(rows.size());
    for (const auto& row : rows) {
      ids.push_back(row[0].as<long long>());
      channels.emplace_back(row[6].c_str());
      addresses.emplace_back(row[7].c_str());
      ClaimedMessage c;
      auto& m = c.message;
      m.id = row[0].as<long long>();
      m.status = MessageStatus::sending;
      try {
        m.event_seq = row[1].is_null() ? 0 : row[1].as<long long>();
        m.event_id = row[2].as<std::string>();
        m.customer_id = row[3].as<std::string>();
        m.account_id = row[4].as<std::string>();
        m.contact_id = row[5].as<long long>();
        m.channel = channel_of(row[6]);
        m.address = row[7].as<std::string>();
        m.type = row[8].as<std::string>();
        m.topic = topic_of(row[9]);
        m.language = row[10].as<std::string>();
        m.subject = row[11].as<std::string>();
        m.body = row[12].as<std::string>();
        m.html = row[13].as<std::string>();
        m.unsubscribe_url = row[14].as<std::string>();
        m.attempts = row[15].as<int>();
        m.gateway = row[16].as<std::string>();
        m.priority = row[17].as<int>();
        m.urgent = row[18].as<bool>();
        if (!row[19].is_null()) m.expires_at = TimePoint(std::chrono::microseconds(row[19].as<long long>()));
        c.expired = row[20].as<bool>();
        c.lane = static_cast<Lane>(row[21].as<int>());
      } catch (const std::runtime_error& e) {
        // Leased like the rest so that the dispatcher ends it with this error: left in the
        // queue, it would be claimed first again by every round.
        c.unreadable = e.what();
      }
      out.push_back(std::move(c));
    }
    // Consent is read after the lease, under the consent lock (0007): an opt-out that
    // committed before this point is seen here, a later one waits for this commit.
    std::set<std::int64_t> opted_out;
    if (!ids.empty())
      for (const auto& row : w.exec_params(kOptedOutAddresses, number_array(ids), text_array(channels), text_array(addresses)))
        opted_out.insert(row[0].as<std::int64_t>());
    for (auto& c : out) c.opted_out = opted_out.count(c.message.id) > 0;
    return out;
  });
}

std::size_t record_dispatch_results(Database& db, const std::string& owner, const std::vector<MessageUpdate>& updates,
                                    TimePoint now) {
  if (updates.empty()) return 0;
  const auto c = record_columns(updates);
  Json opt_out_addresses = Json::array();
  for (const auto& u : updates)
    if (u.provider_opt_out) opt_out_addresses.push_back({{"channel", to_string(u.channel)}, {"address", u.address}});
  std::vector<std::int64_t> ids;
  ids.reserve(updates.size());
  for (const auto& u : updates) ids.push_back(u.id);
  // Outcomes of sends that happened must not be lost to a deadlock: the whole transaction is
  // the same again, so a victim runs once more instead of leaving its messages to be re-sent.
  return retry_rolled_back([&] { return in_transaction(db, [&](pqxx::work& w) {
    if (!opt_out_addresses.empty()) w.exec_params(kLockConsentBuckets, opt_out_addresses.dump());
    w.exec_params(kLockOwnRows, owner, number_array(ids));
    std::set<std::int64_t> mine;
    // Prepared once per connection: planning this statement cost about as much as running it
    // for a few hundred messages.
    w.conn().prepare(kRecordName, kRecord);
    const auto recorded =
        w.exec_prepared(kRecordName, c.id.str(), c.status.str(), c.due_at.str(), c.gateway.str(), c.next_gateway.str(),
                        c.provider_id.str(), c.suppression_reason.str(), c.last_error.str(), c.attempted.str(),
                        c.attempt.str(), c.outcome.str(), c.started_at.str(), c.duration_ms.str(), c.http_status.str(),
                        c.error_code.str(), c.detail.str(), c.conversation.str(), owner, format_time(now));
    for (const auto& row : recorded)
      mine.insert(row[0].as<std::int64_t>());
    // A provider that says the recipient opted out (Twilio 21610) is an opt-out like STOP:
    // recorded once per message this owner still held, and the address's other waiting
    // messages stop with it.
    for (const auto& u : updates) {
      if (!u.provider_opt_out || !mine.count(u.id)) continue;
      opt_out_in(w, u.channel, u.address, std::nullopt, "provider",
                 "message:" + std::to_string(u.id) + " error " + u.error_code, now);
    }
    return mine.size();
  }); });
}

SendCheck check_before_send(Database& db, const std::string& owner, const std::vector<std::int64_t>& ids,
                                    TimePoint now, std::chrono::seconds lease, Lane lane) {
  SendCheck out;
  if (ids.empty()) return out;
  const auto higher = higher_lane_due_query(lane);
  return retry_rolled_back([&] { return in_transaction(db, [&](pqxx::work& w) {
    out = SendCheck{};
    if (!higher.empty()) out.higher_lane_due = w.exec_params(higher, format_time(now))[0][0].as<bool>();
    for (const auto& row :
         w.exec_params(kCheckLeases, owner, number_array(ids), format_time(now), static_cast<double>(lease.count())))
      out.leased.push_back(row[0].as<std::int64_t>());
    const auto opted_out = opted_out_of(w, out.leased);
    std::erase_if(out.leased, [&](std::int64_t id) { return opted_out.count(id) > 0; });
    out.opted_out.assign(opted_out.begin(), opted_out.end());
    return out;
  }); });
}

std::vector<std::int64_t> renew_leases(Database& db, const std::string& owner, const std::vector<std::int64_t>& ids,
                                       TimePoint now, std::chrono::seconds lease) {
  if (ids.empty()) return {};
  return retry_rolled_back([&] { return in_transaction(db, [&](pqxx::work& w) {
    std::vector<std::int64_t> kept;
    for (const auto& row : w.exec_params(kRenew, owner, number_array(ids), format_time(now), static_cast<double>(lease.count())))
      kept.push_back(row[0].as<std::int64_t>());
    return kept;
  }); });
}

std::size_t release_leases(Database& db, const std::string& owner) {
  return in_transaction(db, [&](pqxx::work& w) {
    return static_cast<std::size_t>(w.exec_params(kRelease, owner).affected_rows());
  });
}

std::vector<std::pair<std::string, double>> queue_depth(Database& db) {
  std::vector<std::pair<std::string, double>> out{{"scheduled", 0}, {"queued", 0}, {"sending", 0}};
  with_connection(db, [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    for (const auto& row : n.exec(kQueueDepth))
      for (auto& [status, count] : out)
        if (status == row[0].as<std::string>()) count = row[1].as<double>();
  });
  return out;
}

}  // namespace herald::store

// The message log: filtered keyset pages of summaries, and one message with its attempts and
// receipts.
#include "herald/store/messages.hpp"

#include <algorithm>
#include <atomic>
#include <string_view>

#include "repo_util.hpp"

namespace herald::store {

namespace {

// One statement for every filter combination: an empty parameter switches its filter off.
// Parameters are bound at plan time (unnamed statement), so Postgres folds the switched-off
// filters away and picks the index of the ones left (customer, account, address, type, or the
// primary key between the id bounds of a date range); q has statements of its own (below).
// A date range arrives with its
// id bounds ($11, $13, see below), which already narrow the walk to the range; created_at is
// then only checked, written so that no index applies: the planner takes the id and created_at
// conditions for independent, underestimates the rows left by far and would otherwise fetch the
// whole range through messages_created_at and sort it instead of walking the newest 51.
const char* const kSummaryColumns =
    "SELECT m.id, m.created_at, m.customer_id, m.account_id, m.channel, m.address, m.type, m.topic, m.status,"
    " m.suppression_reason, m.gateway, left(m.body, 80), m.event_id, m.attempts, m.not_before, m.sent_at";
// The filters on columns of the message that message_text does not carry (customer, account,
// address, date range), then those it does (channel, type, topic, 0020) and status.
const std::string kOwnerAndTimeFilters =
    " WHERE ($1 = '' OR m.customer_id = $1)"
    "   AND ($2 = '' OR m.account_id = $2)"
    "   AND ($3 = '' OR m.address = $3)"
    "   AND (NULLIF($9, '') IS NULL OR m.created_at + interval '0 s' >= NULLIF($9, '')::timestamptz)"
    "   AND (NULLIF($10, '') IS NULL OR m.created_at + interval '0 s' < NULLIF($10, '')::timestamptz)";
std::string column_filters(const char* table) {
  const std::string t(table);
  return "   AND ($4 = '' OR " + t + ".channel = $4) AND ($5 = '' OR " + t + ".type = $5)" +
         " AND ($6 = '' OR " + t + ".topic = $6)";
}
const std::string kStatusFilter = "   AND ($7 = '' OR m.status = $7)";
const std::string kFiltersButText = kOwnerAndTimeFilters + column_filters("m") + kStatusFilter;
// The text q matches: the expression the text indexer copies into message_text (message_text.cpp).
const std::string kTextOnMessage = "   AND ($8 = '' OR (m.subject || ' ' || m.body) ILIKE '%' || $8 || '%')";
const std::string kFilters = kFiltersButText + kTextOnMessage;

// Without a rare status: newest first along whatever index the other filters choose.
const std::string kListMessages = std::string(kSummaryColumns) + " FROM herald.messages m" + kFilters +
                                  "   AND ($11::bigint = 0 OR m.id < $11::bigint) AND m.id > $13::bigint"
                                  " ORDER BY m.id DESC LIMIT $12::integer";

// failed, undelivered, suppressed: newest first along messages_by_status (0010), whose own copy
// of channel, type and topic filters before a message row is read.
const std::string kListMessagesByStatus =
    std::string(kSummaryColumns) +
    " FROM herald.messages_by_status s JOIN herald.messages m ON m.id = s.message_id" + kFilters +
    "   AND s.status = $7 AND ($4 = '' OR s.channel = $4) AND ($5 = '' OR s.type = $5) AND ($6 = '' OR s.topic = $6)"
    "   AND ($11::bigint = 0 OR s.message_id < $11::bigint) AND s.message_id > $13::bigint"
    " ORDER BY s.message_id DESC LIMIT $12::integer";

// scheduled, queued, sending: exactly the messages with a dispatch-queue row, newest first along its key.
const std::string kListQueuedMessages =
    std::string(kSummaryColumns) +
    " FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id" + kFilters +
    "   AND ($11::bigint = 0 OR q.message_id < $11::bigint) AND q.message_id > $13::bigint"
    " ORDER BY q.message_id DESC LIMIT $12::integer";

// q: the text indexer (message_text.cpp) keeps herald.message_text, with its trigram index and
// the message's channel, type and topic (0020), for every message up to its watermark ($14);
// the messages above it (the tail) are scanned. Each side keeps to its own side of the
// watermark, so a search is complete, whatever the indexer's lag, and no message is listed
// twice. The watermark is read just before the search, not in it: it only moves up, and every
// message at or below any value it has had has its text row, so an older value splits the log
// as exactly as the current one. Passed as a value, it lets the planner see how many messages
// the tail holds (as a subquery's result it took the tail for a third of the table and started
// parallel workers to scan nothing). On the text side it is written so no index applies (+ 0):
// it covers nearly every row, and the planner would otherwise AND the trigram matches with a
// primary-key bitmap of the whole table. The text is stored lower-cased and matched with LIKE and
// the pattern's lower case: what ILIKE does, without lowering each row again (0020).
const char* const kTextMatch = " AND $8 <> '' AND t.text LIKE '%' || lower($8) || '%' AND t.message_id + 0 <= $14::bigint"
                               " AND ($11::bigint = 0 OR t.message_id < $11::bigint) AND t.message_id > $13::bigint";
const char* const kTextWatermark = "SELECT coalesce(max(indexed_through), 0) FROM herald.message_text_state";
const char* const kLowersAsciiPlainly = "SELECT lower($1) = $2";

// Each text statement is one join the planner orders by its estimates of how many rows each
// filter leaves: for a common word it walks the newest text rows of the filters' index (or the
// key) and checks the word on each, stopping at a page; for a rare word it takes the trigram
// index's matches (ANDed with a filter's index) and sorts those few. The filters on message_text's
// own columns are written on it alone, so they apply before any message row is read and the
// planner counts each once. Customer, account and address start from their own index on
// messages instead and check the text of those few by key.
// (Every text row has its message: a delete removes its text in the same transaction, see 0018.)
const std::string kTextSide = std::string(kSummaryColumns) +
                              " FROM herald.message_text t JOIN herald.messages m ON m.id = t.message_id" +
                              kOwnerAndTimeFilters + column_filters("t") + kTextMatch;

// q on the messages above the watermark, which are scanned: ILIKE lowers every row it checks,
// most of a scanned row's cost. A row whose subject and body are ASCII only (octet length =
// character length) is checked with ILIKE under the "C" collation instead, which lowers A-Z by
// a table: the same answer when the pattern is ASCII too and the database's own lower() maps
// the ASCII characters exactly so (not in a Turkish locale, for one), which $15 says
// (list_messages checks both). Any other row is checked as before.
//
// Before either, a row must hold $16, the longest run of q's ASCII digits and punctuation (an
// account number's "-12345"), if it has one: lower() leaves those characters as they are and
// makes none of them out of another character, so a row that matches holds them as typed, in
// its subject or its body (the run has no space, so it never spans the two). That test is a
// byte search (strpos), several times cheaper than lowering the row and checking the ASCII, and
// rejects nearly every row of the tail for an account or order number.
const std::string kTailMatch =
    "   AND CASE WHEN $16 <> '' AND strpos(m.body, $16) = 0 AND strpos(m.subject, $16) = 0 THEN false"
    "            WHEN $15::boolean AND octet_length(m.subject) = char_length(m.subject)"
    "                 AND octet_length(m.body) = char_length(m.body)"
    "            THEN (m.subject || ' ' || m.body) COLLATE \"C\" ILIKE '%' || $8 || '%'"
    "            ELSE (m.subject || ' ' || m.body) ILIKE '%' || $8 || '%' END";

// The tail above the watermark, newest first along the same index as without q, so a filter
// bounds the scan: a customer's messages, or a rare status's rows, not every new message.
const std::string kTailOfMessages = std::string(" UNION ALL (") + kSummaryColumns + " FROM herald.messages m" +
                                    kFiltersButText + kTailMatch +
                                    "   AND m.id > $14::bigint"
                                    "   AND ($11::bigint = 0 OR m.id < $11::bigint) AND m.id > $13::bigint"
                                    "   ORDER BY m.id DESC LIMIT $12::integer)"
                                    " ORDER BY 1 DESC LIMIT $12::integer";

// q with a status that most messages have (sent, delivered), a date range, a customer, account
// or address: the rows of the page are checked on the message as they are joined.
const std::string kSearchText = "(" + kTextSide + kStatusFilter + " ORDER BY t.message_id DESC LIMIT $12::integer)" +
                                kTailOfMessages;

// q alone or with channel, type or topic only: every filter is message_text's, so the page is
// cut there and only its rows are joined. list_messages picks one of two ways in by the
// planner's estimates (text_only_statement, below) and writes it so the planner cannot take another:
// - a walk: the newest rows of the rarest filter's index (or of the key), the text checked on
//   each, stopping at a page; for a word common among that filter's rows (channel=voice and
//   q=declined reads about 2,400 voice rows). The text's LIKE is written under the "C" collation,
//   so the trigram index does not apply (the same match: LIKE compares bytes under any
//   deterministic collation), and the walked filter as row comparisons of (column, id) with its
//   column in the ORDER BY, so the planner keeps that index's order instead of walking the key
//   (it prices the filter's index as random reads and would walk the key's million rows past a
//   page of voice rows).
// - the matches: the trigram index's matches, each checked on the filters and sorted; for a word
//   rarer than that walk (q=leak: 2,000 matches). The filters are written under "C" too, so no
//   filter's index is ANDed with the matches: building the bitmap of 49,701 voice rows cost more
//   than the whole search, and the matches are fewer than the filter's rows whenever this way
//   is taken. Ordered by an expression of the id, so the planner cannot walk the key instead.
// (The equality under "C" is the same as under the database's collation: a deterministic
// collation calls two strings equal only when their bytes are.)
//
// Those filters written so: all but the one walked (whose range the walk has already applied: checked twice, it would be
// counted twice, and the planner, expecting a twentieth of the rows, would read the whole filter).
std::string unindexed_column_filters(const std::string& walked = "") {
  std::string out;
  for (const auto& [column, param] : {std::pair{"channel", "$4"}, {"type", "$5"}, {"topic", "$6"}}) {
    if (column == walked) continue;
    out += std::string(" AND (") + param + " = '' OR t." + column + " COLLATE \"C\" = " + param + ")";
  }
  return out;
}

std::string text_only_search(const std::string& hits) {
  return std::string("(") + kSummaryColumns + " FROM (" + hits + ") hit JOIN herald.messages m ON m.id = hit.message_id" +
         " ORDER BY m.id DESC LIMIT $12::integer)" + kTailOfMessages;
}

const std::string kSearchTextMatches = text_only_search(
    "SELECT t.message_id FROM herald.message_text t WHERE true" + unindexed_column_filters() + kTextMatch +
    " ORDER BY t.message_id + 0 DESC LIMIT $12::integer");

// The walk along `column`'s index (message_text_channel, _type, _topic: the column, then the
// id), whose filter is parameter `param`; with no column, along the key. Along a filter's index
// the id range is written as row comparisons with the filter's value, which only that index can
// serve: with plain id bounds the planner read a deep page's whole range along the key instead
// (37,000 rows for 43 voice matches below the cursor, against 1,900 voice rows).
std::string text_walk(const std::string& column, const std::string& param) {
  const std::string ids =
      column.empty()
          ? " AND t.message_id <= $14::bigint AND ($11::bigint = 0 OR t.message_id < $11::bigint)"
            " AND t.message_id > $13::bigint"
          : " AND (t." + column + ", t.message_id) > (" + param + ", $13::bigint)"
            " AND (t." + column + ", t.message_id) <= (" + param +
            ", CASE WHEN $11::bigint = 0 THEN $14::bigint ELSE least($14::bigint, $11::bigint - 1) END)";
  const std::string order = column.empty() ? "" : "t." + column + " DESC, ";
  return text_only_search("SELECT t.message_id FROM herald.message_text t WHERE $8 <> ''" + ids +
                          unindexed_column_filters(column) +
                          "   AND t.text COLLATE \"C\" LIKE '%' || lower($8) || '%'"
                          " ORDER BY " + order + "t.message_id DESC LIMIT $12::integer");
}
const std::string kSearchTextWalkKey = text_walk("", "");
const std::string kSearchTextWalkChannel = text_walk("channel", "$4");
const std::string kSearchTextWalkType = text_walk("type", "$5");
const std::string kSearchTextWalkTopic = text_walk("topic", "$6");

// How many rows the planner expects: the text's matches, and each filter's rows, in an id range
// ($2, $3]. Plain statements, so these are the estimates it plans the search with.
const char* const kEstimateMatches =
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM herald.message_text t WHERE t.text LIKE '%' || lower($1) || '%'"
    "   AND t.message_id > $2::bigint AND t.message_id <= $3::bigint";
const char* const kEstimateChannelRows =
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM herald.message_text t WHERE t.channel = $1"
    "   AND t.message_id > $2::bigint AND t.message_id <= $3::bigint";
const char* const kEstimateTypeRows =
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM herald.message_text t WHERE t.type = $1"
    "   AND t.message_id > $2::bigint AND t.message_id <= $3::bigint";
const char* const kEstimateTopicRows =
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM herald.message_text t WHERE t.topic = $1"
    "   AND t.message_id > $2::bigint AND t.message_id <= $3::bigint";

// q with failed, undelivered or suppressed: messages_by_status (0010) and message_text, driven
// from whichever side has fewer rows in the id range (list_messages counts them, see below).
// The status is that table's, kept exact by 0010's triggers; channel, type and topic are
// checked on it too. The id bounds are repeated on it: the planner carries only equalities
// across a join, not ranges.
const std::string kStatusSide =
    "   AND s.status = $7" + column_filters("s") +
    "   AND ($11::bigint = 0 OR s.message_id < $11::bigint) AND s.message_id > $13::bigint";
// The tail: the status's rows above the watermark, their text checked on the message.
const std::string kStatusTail =
    std::string(" UNION ALL (") + kSummaryColumns +
    " FROM herald.messages_by_status s JOIN herald.messages m ON m.id = s.message_id" + kOwnerAndTimeFilters +
    kStatusSide + kTailMatch + " AND s.message_id > $14::bigint" +
    " ORDER BY s.message_id DESC LIMIT $12::integer)"
    " ORDER BY 1 DESC LIMIT $12::integer";
// Fewer rows of the status: they are walked newest first and each one's text row is checked by
// key (the subquery is kept as written by OFFSET 0, so the planner cannot turn it into a scan
// of every match), stopping at a page.
const std::string kSearchTextByStatus =
    std::string("(") + kSummaryColumns +
    " FROM herald.messages_by_status s"
    " JOIN LATERAL (SELECT t.message_id FROM herald.message_text t WHERE t.message_id = s.message_id" +
    kTextMatch + " OFFSET 0) hit ON true"
    " JOIN herald.messages m ON m.id = s.message_id" +
    kOwnerAndTimeFilters + kStatusSide + " AND s.message_id <= $14::bigint" +
    " ORDER BY s.message_id DESC LIMIT $12::integer)" + kStatusTail;
// Fewer matches of the text: the trigram index's matches, each status checked by key.
const std::string kSearchTextThenStatus =
    std::string("(") + kSummaryColumns +
    " FROM herald.message_text t JOIN herald.messages_by_status s ON s.message_id = t.message_id"
    " JOIN herald.messages m ON m.id = t.message_id" +
    kOwnerAndTimeFilters + kStatusSide + kTextMatch + " AND s.message_id <= $14::bigint" +
    " ORDER BY t.message_id DESC LIMIT $12::integer)" + kStatusTail;

// Which side drives a status search: the status's rows below the watermark in the page's id
// range are counted (an index-only walk, up to a bound); the text's matches are estimated by
// the planner (message_text.text keeps a fine histogram for this, 0020): counting them would
// recheck every match, the very cost the choice is there to avoid.
const char* const kCountStatusRows =
    "SELECT count(*) FROM (SELECT 1 FROM herald.messages_by_status s WHERE s.status = $1"
    "   AND ($2 = '' OR s.channel = $2) AND ($3 = '' OR s.type = $3) AND ($4 = '' OR s.topic = $4)"
    "   AND s.message_id > $5::bigint AND s.message_id <= $6::bigint LIMIT $7::integer) n";
const char* const kEstimateTextRows =
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM herald.message_text t WHERE t.text LIKE '%' || lower($4) || '%'"
    "   AND ($1 = '' OR t.channel = $1) AND ($2 = '' OR t.type = $2) AND ($3 = '' OR t.topic = $3)"
    "   AND t.message_id > $5::bigint AND t.message_id <= $6::bigint";
// The count never goes further than this, whatever the estimate.
constexpr int kStatusCountBound = 100000;

// q with scheduled, queued or sending: the few messages still in the dispatch queue, each text
// checked by key (most of them are newer than the watermark anyway).
const std::string kSearchTextQueued =
    std::string("(") + kSummaryColumns +
    " FROM herald.message_queue q JOIN herald.message_text t ON t.message_id = q.message_id"
    " JOIN herald.messages m ON m.id = q.message_id" +
    kOwnerAndTimeFilters + column_filters("t") + kStatusFilter + kTextMatch +
    "   AND ($11::bigint = 0 OR q.message_id < $11::bigint) AND q.message_id > $13::bigint"
    " ORDER BY q.message_id DESC LIMIT $12::integer)"
    " UNION ALL (" + kSummaryColumns +
    " FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id" + kFiltersButText + kTailMatch +
    "   AND q.message_id > $14::bigint"
    "   AND ($11::bigint = 0 OR q.message_id < $11::bigint) AND q.message_id > $13::bigint"
    " ORDER BY q.message_id DESC LIMIT $12::integer)"
    " ORDER BY 1 DESC LIMIT $12::integer";

const std::string& list_statement(const MessageFilter& f) {
  const bool q = !f.q.empty();
  const auto& status = f.status;
  if (q && !status && f.customer_id.empty() && f.account_id.empty() && f.address.empty() && !f.from && !f.to)
    return kSearchTextMatches;  // or a walk: list_messages chooses (text_only_statement)
  if (!status) return q ? kSearchText : kListMessages;
  switch (*status) {
    case MessageStatus::failed:
    case MessageStatus::undelivered:
    case MessageStatus::suppressed: return q ? kSearchTextByStatus : kListMessagesByStatus;
    case MessageStatus::scheduled:
    case MessageStatus::queued:
    case MessageStatus::sending: return q ? kSearchTextQueued : kListQueuedMessages;
    case MessageStatus::sent:
    case MessageStatus::delivered: break;  // most messages: the plain walk finds a page at once
  }
  return q ? kSearchText : kListMessages;
}

// A date range becomes id bounds, so the newest-first walk of an old range starts at the range's
// own end instead of reading every newer message. Messages are stamped with the writer's clock
// as their ids are drawn, so ids follow created_at except between writers whose stamps are
// close together; kIdOrderSlack bounds that disorder. The first message stamped at least the
// slack after `to` has an id above every message stamped before `to`; the last one stamped at
// least the slack before `from` has an id below every message from `from` on. The created_at
// filter stays, so a bound that lands inside the slack costs a few rows read, never a wrong row.
const char* const kIdAbove =
    "SELECT id FROM herald.messages WHERE created_at >= $1::timestamptz + $2::interval"
    " ORDER BY created_at LIMIT 1";
const char* const kIdBelow =
    "SELECT id FROM herald.messages WHERE created_at < $1::timestamptz - $2::interval"
    " ORDER BY created_at DESC LIMIT 1";
const char* const kIdOrderSlack = "10 minutes";

// due_at comes from the dispatch queue: when the message is next looked at, if it is still to go
// out; while it is leased, when its lease lapses.
const char* const kSelectMessage =
    "SELECT id, event_seq, event_id, customer_id, account_id, contact_id, channel, address, type, topic,"
    " language, priority, urgent, subject, body, html, segments, encoding, status, suppression_reason,"
    " decision::text, not_before, expires_at, coalesce(q.leased_until, q.due_at), attempts, gateway, provider_id, last_error,"
    " created_at, updated_at, sent_at, delivered_at"
    " FROM herald.messages m LEFT JOIN herald.message_queue q ON q.message_id = m.id WHERE m.id = $1";

const char* const kSelectAttempts =
    "SELECT attempt, gateway, started_at, duration_ms, outcome, http_status, error_code, detail, provider_id"
    " FROM herald.message_attempts WHERE message_id = $1 ORDER BY id";

const char* const kSelectReceipts =
    "SELECT status, error_code, received_at, raw::text, gateway"
    " FROM herald.delivery_receipts WHERE message_id = $1 ORDER BY id";

constexpr int kMaxLimit = 500;

std::optional<std::string> optional_text_of(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str());
}

template <typename T>
std::optional<T> optional_of(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

std::string filter_text(const std::optional<Channel>& v) { return v ? std::string(to_string(*v)) : ""; }
std::string filter_text(const std::optional<Topic>& v) { return v ? std::string(to_string(*v)) : ""; }
std::string filter_text(const std::optional<MessageStatus>& v) { return v ? std::string(to_string(*v)) : ""; }

MessageSummary summary_of(const pqxx::row& row) {
  MessageSummary m;
  m.id = row[0].as<std::int64_t>();
  m.created_at = time_of(row[1]);
  m.customer_id = row[2].c_str();
  m.account_id = row[3].c_str();
  m.channel = channel_of(row[4]);
  m.address = row[5].c_str();
  m.type = row[6].c_str();
  m.topic = topic_of(row[7]);
  m.status = message_status_of(row[8]);
  m.suppression_reason = optional_text_of(row[9]);
  m.gateway = optional_text_of(row[10]);
  m.body_preview = row[11].c_str();
  m.event_id = row[12].c_str();
  m.attempts = row[13].as<int>();
  m.not_before = optional_time_of(row[14]);
  m.sent_at = optional_time_of(row[15]);
  return m;
}

MessageDetail detail_of(const pqxx::row& row) {
  MessageDetail m;
  m.id = row[0].as<std::int64_t>();
  m.event_seq = optional_of<std::int64_t>(row[1]);
  m.event_id = row[2].c_str();
  m.customer_id = row[3].c_str();
  m.account_id = row[4].c_str();
  m.contact_id = optional_of<std::int64_t>(row[5]);
  m.channel = channel_of(row[6]);
  m.address = row[7].c_str();
  m.type = row[8].c_str();
  m.topic = topic_of(row[9]);
  m.language = row[10].c_str();
  m.priority = row[11].as<int>();
  m.urgent = row[12].as<bool>();
  m.subject = row[13].c_str();
  m.body = row[14].c_str();
  m.html = row[15].c_str();
  m.segments = row[16].as<int>();
  m.encoding = row[17].c_str();
  m.status = message_status_of(row[18]);
  m.suppression_reason = optional_text_of(row[19]);
  m.decision = json_of(row[20]);
  m.not_before = optional_time_of(row[21]);
  m.expires_at = optional_time_of(row[22]);
  m.due_at = optional_time_of(row[23]);
  m.attempt_count = row[24].as<int>();
  m.gateway = optional_text_of(row[25]);
  m.provider_id = optional_text_of(row[26]);
  m.last_error = optional_text_of(row[27]);
  m.created_at = time_of(row[28]);
  m.updated_at = time_of(row[29]);
  m.sent_at = optional_time_of(row[30]);
  m.delivered_at = optional_time_of(row[31]);
  return m;
}

MessageAttempt attempt_of(const pqxx::row& a) {
  MessageAttempt out;
  out.attempt = a[0].as<int>();
  out.gateway = a[1].c_str();
  out.started_at = time_of(a[2]);
  out.duration_ms = a[3].as<int>();
  out.outcome = a[4].c_str();
  out.http_status = optional_of<int>(a[5]);
  out.error_code = optional_text_of(a[6]);
  out.detail = a[7].c_str();
  out.provider_id = optional_text_of(a[8]);
  return out;
}

DeliveryReceipt receipt_of(const pqxx::row& r) {
  DeliveryReceipt out;
  out.status = r[0].c_str();
  out.error_code = optional_text_of(r[1]);
  out.received_at = time_of(r[2]);
  out.raw = json_of(r[3]);
  out.gateway = r[4].c_str();
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// The longest run of q's ASCII digits and punctuation, which a row matching q holds as typed
// (kTailMatch); empty when shorter than three characters, which would spare few rows their check.
std::string caseless_run(std::string_view q) {
  std::string_view best, run;
  for (std::size_t i = 0; i <= q.size(); ++i) {
    const auto c = i < q.size() ? static_cast<unsigned char>(q[i]) : 0;
    const bool caseless = c > ' ' && c < 0x7f && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z');
    if (caseless) {
      run = q.substr(i - run.size(), run.size() + 1);
    } else {
      if (run.size() > best.size()) best = run;
      run = {};
    }
  }
  return best.size() >= 3 ? std::string(best) : std::string();
}

double estimated_rows(pqxx::transaction_base& t, const char* statement, const std::string& value, std::int64_t lower,
                      std::int64_t upper) {
  const auto plan = Json::parse(t.exec_params(statement, value, lower, upper)[0][0].c_str());
  return plan[0]["Plan"]["Plan Rows"].get<double>();
}

// q alone or with channel, type or topic, ids in (lower, upper]: the walk of the rarest filter's
// index (or of the key) when it is expected to read fewer rows than the text has matches, else
// the matches (see kSearchTextMatches). The walk reads about (limit + 1) of its rows per row of
// them that passes the text and the other filters, all taken as independent (nothing better is
// known), and at most all of them. The trigram index hands over every match of the history,
// whatever the page's id range (a deep page's range holds a few of them), so the matches are
// counted over all indexed messages (ids up to the watermark). The estimates are the planner's
// (message_text.text keeps a fine histogram, 0020); each costs a plan, no read.
const std::string& text_only_statement(pqxx::transaction_base& t, const MessageFilter& f, const std::string& pattern,
                                       std::int64_t lower, std::int64_t upper, std::int64_t watermark, int limit) {
  if (upper <= lower || watermark <= 0) return kSearchTextMatches;
  const double range = static_cast<double>(upper - lower);
  const double matches = std::max(1.0, estimated_rows(t, kEstimateMatches, pattern, 0, watermark));
  const std::string* walk = &kSearchTextWalkKey;
  double walked = range, found = range * matches / static_cast<double>(watermark);
  auto filter = [&](const char* estimate, const std::string& value, const std::string& statement) {
    const double rows = std::clamp(estimated_rows(t, estimate, value, lower, upper), 0.0, range);
    found *= rows / range;
    if (rows < walked) {
      walked = rows;
      walk = &statement;
    }
  };
  if (f.channel) filter(kEstimateChannelRows, std::string(to_string(*f.channel)), kSearchTextWalkChannel);
  if (!f.type.empty()) filter(kEstimateTypeRows, f.type, kSearchTextWalkType);
  if (f.topic) filter(kEstimateTopicRows, std::string(to_string(*f.topic)), kSearchTextWalkTopic);
  const double walk_rows = found > 0 ? std::min(walked, (limit + 1) * walked / found) : walked;
  return walk_rows < matches ? *walk : kSearchTextMatches;
}

// Whether the database's lower() maps the printable ASCII characters as the "C" collation does
// (A-Z to a-z, the rest unchanged): asked once per process, every connection goes to the same
// database. 0 not asked yet, 1 yes, 2 no.
std::atomic<int> lowers_ascii_plainly{0};

bool database_lowers_ascii_plainly(pqxx::transaction_base& t) {
  if (const int known = lowers_ascii_plainly.load(); known != 0) return known == 1;
  std::string printable, lowered;
  for (char c = ' '; c <= '~'; ++c) {
    printable += c;
    lowered += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const bool plain = t.exec_params(kLowersAsciiPlainly, printable, lowered)[0][0].as<bool>();
  lowers_ascii_plainly.store(plain ? 1 : 2);
  return plain;
}

}  // namespace

MessagePage list_messages(Database& db, const MessageFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxLimit);
  MessagePage page;
  with_connection(db, [&](pqxx::connection& c) {
    page = MessagePage{};
    pqxx::nontransaction n(c);
    std::int64_t before_id = f.before_id;
    std::int64_t after_id = 0;
    if (f.to) {
      const auto r = n.exec_params(kIdAbove, format_time(*f.to), kIdOrderSlack);
      if (!r.empty()) {
        const auto bound = r[0][0].as<std::int64_t>();
        if (before_id == 0 || bound < before_id) before_id = bound;
      }
    }
    if (f.from) {
      const auto r = n.exec_params(kIdBelow, format_time(*f.from), kIdOrderSlack);
      if (!r.empty()) after_id = r[0][0].as<std::int64_t>();
    }
    // One row more than asked tells whether there is a next page.
    const auto& statement = list_statement(f);
    const auto from = f.from ? format_time(*f.from) : "";
    const auto to = f.to ? format_time(*f.to) : "";
    const auto pattern = like_escape(f.q);
    const auto channel = filter_text(f.channel), topic = filter_text(f.topic), status = filter_text(f.status);
    pqxx::result rows;
    if (f.q.empty()) {
      rows = n.exec_params(statement, f.customer_id, f.account_id, f.address, channel, f.type, topic, status,
                           pattern, from, to, before_id, limit + 1, after_id);
    } else {
      const auto watermark = n.exec(kTextWatermark)[0][0].as<std::int64_t>();
      const std::string* chosen = &statement;
      if (&statement == &kSearchTextByStatus) {
        // Walking the status's rows newest first reads about limit / (share of them holding the
        // text) rows, at most all of them; taking the text's matches reads every match. With
        // the text as common among the status's rows as among all (nothing better is known):
        // drive from the text when its matches are fewer than that walk would be.
        const auto upper = before_id > 0 ? std::min(before_id - 1, watermark) : watermark;
        const auto lower = after_id;
        if (upper > lower) {
          const auto plan = Json::parse(
              n.exec_params(kEstimateTextRows, channel, f.type, topic, pattern, lower, upper)[0][0].c_str());
          const double text_rows = std::max(1.0, plan[0]["Plan"]["Plan Rows"].get<double>());
          const double walk_bound = (limit + 1) * static_cast<double>(upper - lower) / text_rows;
          // The status's rows are counted only as far as the text's matches: more of them than
          // that, and the matches are fewer than the walk whenever they are fewer than its bound.
          if (text_rows < walk_bound) {
            const auto count_to = static_cast<int>(std::min<double>(text_rows, kStatusCountBound)) + 1;
            const auto status_rows =
                n.exec_params(kCountStatusRows, status, channel, f.type, topic, lower, upper, count_to)[0][0].as<int>();
            if (status_rows > text_rows) chosen = &kSearchTextThenStatus;
          }
        }
      }
      if (&statement == &kSearchTextMatches) {
        const auto upper = before_id > 0 ? std::min(before_id - 1, watermark) : watermark;
        chosen = &text_only_statement(n, f, pattern, after_id, upper, watermark, limit);
      }
      const bool plain_ascii = is_ascii(f.q) && database_lowers_ascii_plainly(n);
      auto run = caseless_run(f.q);
      if (!run.empty() && !database_lowers_ascii_plainly(n)) run.clear();
      rows = n.exec_params(*chosen, f.customer_id, f.account_id, f.address, channel, f.type, topic, status,
                           pattern, from, to, before_id, limit + 1, after_id, watermark, plain_ascii, run);
    }
    for (const auto& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_before_id = page.items.back().id;
        break;
      }
      page.items.push_back(summary_of(row));
    }
  });
  return page;
}

std::optional<MessageDetail> get_message_detail(Database& db, std::int64_t id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<MessageDetail> {
    const auto r = w.exec_params(kSelectMessage, id);
    if (r.empty()) return std::nullopt;
    auto m = detail_of(r[0]);
    for (const auto& a : w.exec_params(kSelectAttempts, id)) m.attempts.push_back(attempt_of(a));
    for (const auto& rc : w.exec_params(kSelectReceipts, id)) m.receipts.push_back(receipt_of(rc));
    return m;
  });
}

}  // namespace herald::store

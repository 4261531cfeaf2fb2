// Consent records, the opt-out that stops what is queued, and the one-click unsubscribe.
#include "herald/store/consent.hpp"

#include "opt_out.hpp"
#include "queue_sql.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

const char* const kInsertConsent =
    "INSERT INTO herald.consent_events (channel, address, topic, state, source, evidence, recorded_at)"
    " VALUES ($1, $2, NULLIF($3, ''), $4, $5, $6, $7::timestamptz)";

// For a topic, a topic-less record (STOP, START) and a record for that topic both count.
const char* const kCurrentConsent =
    "SELECT state FROM herald.consent_events"
    " WHERE channel = $1 AND address = $2 AND (topic IS NULL OR topic = NULLIF($3, ''))"
    " ORDER BY id DESC LIMIT 1";

const char* const kCustomersWithContact =
    "SELECT DISTINCT customer_id FROM herald.contacts"
    " WHERE channel = $1 AND address = $2 AND active ORDER BY customer_id";

const char* const kLockConsent = "SELECT herald.consent_lock($1, $2)";

// Waiting rows of the address, in id order; rows another transaction holds (a claim, a
// renewal, a recording) are passed by instead of waited for: the claim and the check before
// each send read consent again under the consent lock this transaction holds, so whatever
// is skipped here is suppressed there. A topic opt-out spares regulatory notices and
// contact verifications (the decision records the regulatory flag, 0001's rule.regulatory).
const std::string kSuppressWaiting = R"SQL(
WITH waiting AS (
  SELECT q.message_id
  FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id
  WHERE m.channel = $1 AND m.address = $2
    AND )SQL" + queue_row_free("q.", "$4::timestamptz") + R"SQL(
    AND ($3 = '' OR (m.topic = $3 AND m.type <> 'contact.verification'
                     AND NOT coalesce((m.decision #>> '{rule,regulatory}')::boolean, false)))
  ORDER BY q.message_id
  FOR UPDATE OF q SKIP LOCKED
), ended AS (
  DELETE FROM herald.message_queue q USING waiting w WHERE q.message_id = w.message_id
  RETURNING q.message_id
)
UPDATE herald.messages m
SET status = 'suppressed', suppression_reason = 'opted_out', updated_at = $4::timestamptz
FROM ended WHERE m.id = ended.message_id)SQL";

constexpr std::string_view kUnsubscribeActor = "unsubscribe-link";

std::string topic_param(std::optional<Topic> topic) { return topic ? std::string(to_string(*topic)) : ""; }

ConsentState consent_in(pqxx::transaction_base& t, Channel channel, std::string_view address,
                        std::optional<Topic> topic) {
  const auto r = t.exec_params(kCurrentConsent, std::string(to_string(channel)), std::string(address),
                               topic_param(topic));
  if (r.empty()) return ConsentState::opted_in;
  return parse_consent_state(r[0][0].c_str()).value_or(ConsentState::opted_in);
}

}  // namespace

void lock_consent(pqxx::transaction_base& t, Channel channel, std::string_view address) {
  t.exec_params(kLockConsent, std::string(to_string(channel)), std::string(address));
}

void insert_consent(pqxx::transaction_base& t, Channel channel, std::string_view address,
                    std::optional<Topic> topic, ConsentState state, std::string_view source,
                    std::string_view evidence, TimePoint now) {
  t.exec_params(kInsertConsent, std::string(to_string(channel)), std::string(address), topic_param(topic),
                std::string(to_string(state)), std::string(source), std::string(evidence), format_time(now));
}

std::size_t suppress_waiting_messages(pqxx::transaction_base& t, Channel channel, std::string_view address,
                                      std::optional<Topic> topic, TimePoint now) {
  return static_cast<std::size_t>(t.exec_params(kSuppressWaiting, std::string(to_string(channel)),
                                                std::string(address), topic_param(topic), format_time(now))
                                      .affected_rows());
}

std::size_t opt_out_in(pqxx::transaction_base& t, Channel channel, std::string_view address,
                       std::optional<Topic> topic, std::string_view source, std::string_view evidence,
                       TimePoint now) {
  lock_consent(t, channel, address);
  insert_consent(t, channel, address, topic, ConsentState::opted_out, source, evidence, now);
  return suppress_waiting_messages(t, channel, address, topic, now);
}

std::size_t record_opt_out(Database& db, Channel channel, std::string_view address, std::optional<Topic> topic,
                           std::string_view source, std::string_view evidence, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) { return opt_out_in(w, channel, address, topic, source, evidence, now); });
}

void record_consent(Database& db, Channel channel, std::string_view address, std::optional<Topic> topic,
                    ConsentState state, std::string_view source, std::string_view evidence, TimePoint now) {
  if (state == ConsentState::opted_out) {
    record_opt_out(db, channel, address, topic, source, evidence, now);
    return;
  }
  in_transaction(db, [&](pqxx::work& w) { insert_consent(w, channel, address, topic, state, source, evidence, now); });
}

ConsentState current_consent(Database& db, Channel channel, std::string_view address, std::optional<Topic> topic) {
  return in_transaction(db, [&](pqxx::work& w) { return consent_in(w, channel, address, topic); });
}

int unsubscribe_topic(Database& db, Channel channel, std::string_view address, Topic topic,
                      std::string_view evidence, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
    lock_consent(w, channel, address);
    int changed = 0;
    // Customers in id order, each preferences row locked before it is read: two unsubscribes
    // for the same address serialise instead of losing one another's change.
    for (const auto& row : w.exec_params(kCustomersWithContact, std::string(to_string(channel)),
                                         std::string(address))) {
      const std::string customer_id = row[0].c_str();
      auto old = load_preferences(w, customer_id, /*lock=*/true);
      if (!old || !old->wants(topic, channel)) continue;
      Preferences updated = *old;
      updated.topics[topic].erase(channel);
      store_preferences(w, customer_id, updated, now);
      record_preference_change(w, customer_id, kUnsubscribeActor, old, updated, now);
      ++changed;
    }
    // A second click changes nothing and adds no record; the first one's evidence stands.
    if (changed > 0 || consent_in(w, channel, address, topic) != ConsentState::opted_out)
      insert_consent(w, channel, address, topic, ConsentState::opted_out, "email", evidence, now);
    // Swept on every click, like the record it follows: harmless when nothing waits.
    suppress_waiting_messages(w, channel, address, topic, now);
    return changed;
  });
}

}  // namespace herald::store

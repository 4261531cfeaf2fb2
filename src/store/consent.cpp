// Consent records and the one-click unsubscribe that turns a topic off for an address.
#include "herald/store/consent.hpp"

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

constexpr std::string_view kUnsubscribeActor = "unsubscribe-link";

std::string topic_param(std::optional<Topic> topic) { return topic ? std::string(to_string(*topic)) : ""; }

void insert_consent(pqxx::transaction_base& t, Channel channel, std::string_view address,
                    std::optional<Topic> topic, ConsentState state, std::string_view source,
                    std::string_view evidence, TimePoint now) {
  t.exec_params(kInsertConsent, std::string(to_string(channel)), std::string(address), topic_param(topic),
                std::string(to_string(state)), std::string(source), std::string(evidence), format_time(now));
}

ConsentState consent_in(pqxx::transaction_base& t, Channel channel, std::string_view address,
                        std::optional<Topic> topic) {
  const auto r = t.exec_params(kCurrentConsent, std::string(to_string(channel)), std::string(address),
                               topic_param(topic));
  if (r.empty()) return ConsentState::opted_in;
  return parse_consent_state(r[0][0].c_str()).value_or(ConsentState::opted_in);
}

}  // namespace

void record_consent(Database& db, Channel channel, std::string_view address, std::optional<Topic> topic,
                    ConsentState state, std::string_view source, std::string_view evidence, TimePoint now) {
  in_transaction(db, [&](pqxx::work& w) { insert_consent(w, channel, address, topic, state, source, evidence, now); });
}

ConsentState current_consent(Database& db, Channel channel, std::string_view address, std::optional<Topic> topic) {
  return in_transaction(db, [&](pqxx::work& w) { return consent_in(w, channel, address, topic); });
}

int unsubscribe_topic(Database& db, Channel channel, std::string_view address, Topic topic,
                      std::string_view evidence, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) {
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
    return changed;
  });
}

}  // namespace herald::store

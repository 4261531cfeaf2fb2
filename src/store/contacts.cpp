// Web contacts: double opt-in (codes, reply YES), removal, and a customer's consent history.
#include "herald/store/contacts.hpp"

#include <algorithm>

#include "herald/domain/lane.hpp"
#include "herald/domain/verification_code.hpp"
#include "opt_out.hpp"
#include "queue_sql.hpp"
#include "repo_util.hpp"

namespace herald::store {

namespace {

constexpr int kVerificationPriority = 100;  // the top of the range event types may use (-100..100)
constexpr const char* kVerificationType = "contact.verification";

const char* const kCustomerBrief = "SELECT name, language FROM herald.customers WHERE customer_id = $1";

// The customer row is locked so that two starts for one customer count each other.
const char* const kLockCustomer =
    "SELECT language, coalesce((SELECT account_id FROM herald.accounts a"
    "                           WHERE a.customer_id = c.customer_id AND a.active ORDER BY account_id LIMIT 1), '')"
    " FROM herald.customers c WHERE customer_id = $1 FOR UPDATE";

// Starts within the hour before now, and the oldest of them (when one frees up).
const char* const kStartsByCustomer =
    "SELECT count(*), min(created_at) FROM herald.contact_verifications"
    " WHERE customer_id = $1 AND created_at > $2::timestamptz - interval '1 hour'";
const char* const kStartsByAddress =
    "SELECT count(*), min(created_at) FROM herald.contact_verifications"
    " WHERE channel = $1 AND address = $2 AND created_at > $3::timestamptz - interval '1 hour'";

const char* const kContact =
    "SELECT contact_id, verified, active, source FROM herald.contacts"
    " WHERE customer_id = $1 AND channel = $2 AND address = $3 FOR UPDATE";

const char* const kTopicLessConsent =
    "SELECT state FROM herald.consent_events WHERE channel = $1 AND address = $2 AND topic IS NULL"
    " ORDER BY id DESC LIMIT 1";

const char* const kUpsertPendingContact =
    "INSERT INTO herald.contacts (customer_id, channel, address, verified, source, active, created_at, updated_at)"
    " VALUES ($1, $2, $3, false, 'web', true, $4::timestamptz, $4::timestamptz)"
    " ON CONFLICT (customer_id, channel, address) DO UPDATE"
    " SET verified = false, source = 'web', active = true, updated_at = excluded.updated_at"
    " RETURNING contact_id";

const char* const kSupersede =
    "UPDATE herald.contact_verifications SET status = 'superseded' WHERE contact_id = $1 AND status = 'pending'";

const char* const kInsertVerification =
    "INSERT INTO herald.contact_verifications (customer_id, contact_id, channel, address, code_hash, created_at,"
    "  expires_at)"
    " VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz) RETURNING id";

// Due now and never held: quiet hours and preferences do not apply to a code the customer is
// waiting for. Its own expiry is the code's. It is queued in the verification lane, ahead of
// every alert: a customer is looking at the page waiting for it.
const char* const kInsertMessage = R"SQL(
WITH m AS (
  INSERT INTO herald.messages (event_id, customer_id, account_id, contact_id, channel, address, type, topic, language,
                               priority, subject, body, html, segments, encoding, status, decision, not_before,
                               expires_at, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 'other', $8, $9, $10, $11, $12, $13, $14, 'queued', $15::jsonb,
          $16::timestamptz, $17::timestamptz, $16::timestamptz, $16::timestamptz)
  RETURNING id
), q AS (
  INSERT INTO herald.message_queue (message_id, due_at, lane) SELECT id, $16::timestamptz, $18::smallint FROM m
)
SELECT id FROM m)SQL";

const char* const kLinkMessage = "UPDATE herald.contact_verifications SET message_id = $2 WHERE id = $1";
const char* const kWakeDispatch = "SELECT pg_notify('herald_messages', '')";

const char* const kNewestVerification =
    "SELECT id, code_hash, status, failed_attempts, expires_at <= $2::timestamptz"
    " FROM herald.contact_verifications WHERE contact_id = $1 ORDER BY id DESC LIMIT 1 FOR UPDATE";

const char* const kCountWrongCode =
    "UPDATE herald.contact_verifications SET failed_attempts = failed_attempts + 1,"
    "  status = CASE WHEN failed_attempts + 1 >= $2 THEN 'locked' ELSE status END"
    " WHERE id = $1 RETURNING failed_attempts, status";

const char* const kMarkVerified =
    "UPDATE herald.contact_verifications SET status = 'verified', verified_at = $2::timestamptz, verified_by = $3"
    " WHERE id = $1";
const char* const kMarkContactVerified =
    "UPDATE herald.contacts SET verified = true, updated_at = $2::timestamptz WHERE contact_id = $1";

// The newest verification waiting on an SMS number, whoever's it is.
const char* const kPendingOnNumber = R"SQL(
SELECT v.id, v.contact_id, v.customer_id, v.code_hash
FROM herald.contact_verifications v JOIN herald.contacts c ON c.contact_id = v.contact_id
WHERE v.channel = 'sms' AND v.address = $1 AND v.status = 'pending' AND v.expires_at > $2::timestamptz
  AND c.active AND NOT c.verified
ORDER BY v.id DESC LIMIT 1
FOR UPDATE OF v, c)SQL";

const char* const kDeactivateContact =
    "UPDATE herald.contacts SET active = false, updated_at = $2::timestamptz WHERE contact_id = $1";
const char* const kEndVerifications =
    "UPDATE herald.contact_verifications SET status = 'removed' WHERE contact_id = $1 AND status = 'pending'";

// What still waits for the removed contact (its code text, alerts queued for it) is cancelled;
// a message a dispatch holds leased is left to it, as an opt-out leaves it.
const std::string kCancelWaiting = R"SQL(
WITH waiting AS (
  SELECT q.message_id
  FROM herald.message_queue q JOIN herald.messages m ON m.id = q.message_id
  WHERE m.contact_id = $1 AND )SQL" + queue_row_free("q.", "$2::timestamptz") + R"SQL(
  ORDER BY q.message_id
  FOR UPDATE OF q SKIP LOCKED
), ended AS (
  DELETE FROM herald.message_queue q USING waiting w WHERE q.message_id = w.message_id
  RETURNING q.message_id
)
UPDATE herald.messages m
SET status = 'suppressed', suppression_reason = 'cancelled', updated_at = $2::timestamptz
FROM ended WHERE m.id = ended.message_id)SQL";

const char* const kConsentHistory = R"SQL(
SELECT ce.id, ce.channel, ce.address, coalesce(ce.topic, ''), ce.state, ce.source, ce.evidence, ce.recorded_at
FROM herald.consent_events ce
WHERE (ce.channel, ce.address) IN (SELECT channel, address FROM herald.contacts WHERE customer_id = $1)
  AND ($2 = 0 OR ce.id < $2)
ORDER BY ce.id DESC
LIMIT $3)SQL";

struct ContactRow {
  std::int64_t id = 0;
  bool verified = false;
  bool active = false;
  std::string source;
};

std::optional<ContactRow> contact_row(pqxx::transaction_base& t, std::string_view customer_id, Channel channel,
                                      std::string_view address) {
  const auto r = t.exec_params(kContact, std::string(customer_id), std::string(to_string(channel)), std::string(address));
  if (r.empty()) return std::nullopt;
  return ContactRow{r[0][0].as<std::int64_t>(), r[0][1].as<bool>(), r[0][2].as<bool>(), r[0][3].c_str()};
}

Contact stored_contact(pqxx::transaction_base& t, std::string_view customer_id, std::int64_t contact_id) {
  for (auto& c : load_contacts(t, customer_id, /*active_only=*/false))
    if (c.id == contact_id) return c;
  throw std::runtime_error("contact " + std::to_string(contact_id) + " vanished");
}

// A start refused for too many within the hour: when the oldest of them leaves the window.
std::optional<Seconds> over_limit(const pqxx::result& r, int limit, TimePoint now) {
  if (r[0][0].as<long long>() < limit || r[0][1].is_null()) return std::nullopt;
  const auto frees_at = time_of(r[0][1]) + std::chrono::hours(1);
  return std::max(Seconds(1), std::chrono::ceil<Seconds>(frees_at - now));
}

void mark_verified(pqxx::transaction_base& t, std::int64_t verification_id, std::int64_t contact_id,
                   std::string_view verified_by, TimePoint now) {
  t.exec_params(kMarkVerified, verification_id, format_time(now), std::string(verified_by));
  t.exec_params(kMarkContactVerified, contact_id, format_time(now));
}

}  // namespace

std::optional<CustomerBrief> customer_brief(Database& db, std::string_view customer_id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<CustomerBrief> {
    const auto r = w.exec_params(kCustomerBrief, std::string(customer_id));
    if (r.empty()) return std::nullopt;
    return CustomerBrief{r[0][0].c_str(), r[0][1].c_str()};
  });
}

Result<StartedVerification> start_contact_verification(Database& db, std::string_view customer_id, Channel channel,
                                                       std::string_view address, std::string_view code_hash,
                                                       const VerificationText& text,
                                                       const VerificationSettings& settings, TimePoint now,
                                                       Seconds* retry_after) {
  const std::string channel_name(to_string(channel));
  return transact<StartedVerification>(db, [&](pqxx::work& w) -> Result<StartedVerification> {
    // The consent lock first, as a customer upsert takes its buckets before the customer row
    // (no cycle between the two); it also serialises starts for one address across customers.
    lock_consent(w, channel, address);
    const auto customer = w.exec_params(kLockCustomer, std::string(customer_id));
    if (customer.empty()) return not_found("customer_not_found", "no such customer");
    const std::string account_id = customer[0][1].c_str();
    auto wait = over_limit(w.exec_params(kStartsByCustomer, std::string(customer_id), format_time(now)),
                           settings.sends_per_hour_per_customer, now);
    if (!wait)
      wait = over_limit(w.exec_params(kStartsByAddress, channel_name, std::string(address), format_time(now)),
                        settings.sends_per_hour_per_address, now);
    if (wait) {
      if (retry_after) *retry_after = *wait;
      return ApiError{ErrorKind::rate_limited, "verification_rate_limited",
                      "too many verification codes sent for this customer or address; retry later", "address"};
    }

    if (auto existing = contact_row(w, customer_id, channel, address); existing && existing->verified && existing->active)
      return ApiError{ErrorKind::conflict, "contact_already_verified", "this contact is already verified", "address"};
    const auto consent = w.exec_params(kTopicLessConsent, channel_name, std::string(address));
    if (!consent.empty() && std::string_view(consent[0][0].c_str()) == "opted_out")
      return invalid("address", "address_opted_out",
                     channel == Channel::sms ? "this number replied STOP; text START to it first"
                                             : "this address opted out of all messages");

    StartedVerification started;
    started.expires_at = now + settings.code_ttl;
    started.contact_id = w.exec_params(kUpsertPendingContact, std::string(customer_id), channel_name,
                                       std::string(address), format_time(now))[0][0]
                             .as<std::int64_t>();
    w.exec_params(kSupersede, started.contact_id);
    started.verification_id =
        w.exec_params(kInsertVerification, std::string(customer_id), started.contact_id, channel_name,
                      std::string(address), std::string(code_hash), format_time(now), format_time(started.expires_at))[0][0]
            .as<std::int64_t>();
    const Json decision = {{"chosen_by", "verification"},
                           {"reason", "send_now"},
                           {"verification_id", started.verification_id},
                           {"note", "a contact verification: preferences and quiet hours do not apply"}};
    started.message_id =
        w.exec_params(kInsertMessage, "verification:" + std::to_string(started.verification_id),
                      std::string(customer_id), account_id, started.contact_id, channel_name, std::string(address),
                      std::string(kVerificationType), text.language, kVerificationPriority, text.subject, text.body,
                      text.html, text.segments, text.encoding, decision.dump(), format_time(now),
                      format_time(started.expires_at), static_cast<int>(Lane::verification))[0][0]
            .as<std::int64_t>();
    w.exec_params(kLinkMessage, started.verification_id, started.message_id);
    w.exec(kWakeDispatch);
    return started;
  });
}

VerifyResult verify_contact_code(Database& db, std::string_view customer_id, Channel channel,
                                 std::string_view address, std::string_view code_hash, int max_attempts,
                                 TimePoint now) {
  // Committed whatever the answer: a wrong code must count.
  return in_transaction(db, [&](pqxx::work& w) {
    VerifyResult out;
    // The consent lock before the contact row, in the order opt-outs and customer upserts take them.
    lock_consent(w, channel, address);
    const auto contact = contact_row(w, customer_id, channel, address);
    if (!contact || !contact->active) return out;
    if (contact->verified) {
      out.outcome = VerifyOutcome::already_verified;
      out.contact = stored_contact(w, customer_id, contact->id);
      return out;
    }
    const auto r = w.exec_params(kNewestVerification, contact->id, format_time(now));
    const std::string status = r.empty() ? "" : r[0][2].c_str();
    if (status == "locked") {
      out.outcome = VerifyOutcome::locked;
      return out;
    }
    if (status != "pending") {
      out.outcome = VerifyOutcome::no_pending;
      return out;
    }
    const auto verification_id = r[0][0].as<std::int64_t>();
    const std::string stored_hash = r[0][1].c_str();
    if (r[0][4].as<bool>()) {
      out.outcome = VerifyOutcome::expired;
      return out;
    }
    if (!same_hash(stored_hash, code_hash)) {
      const auto counted = w.exec_params(kCountWrongCode, verification_id, max_attempts);
      const int failed = counted[0][0].as<int>();
      out.outcome = std::string_view(counted[0][1].c_str()) == "locked" ? VerifyOutcome::locked : VerifyOutcome::wrong_code;
      out.attempts_left = std::max(0, max_attempts - failed);
      return out;
    }
    mark_verified(w, verification_id, contact->id, "code", now);
    insert_consent(w, channel, address, std::nullopt, ConsentState::opted_in, "web",
                   "verification:" + std::to_string(verification_id) + " code_hash:" + stored_hash.substr(0, 12), now);
    out.outcome = VerifyOutcome::verified;
    out.contact = stored_contact(w, customer_id, contact->id);
    return out;
  });
}

std::optional<ConfirmedContact> confirm_contact_by_reply(Database& db, std::string_view address,
                                                         std::string_view inbound_id, TimePoint now) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<ConfirmedContact> {
    lock_consent(w, Channel::sms, address);
    const auto r = w.exec_params(kPendingOnNumber, std::string(address), format_time(now));
    if (r.empty()) return std::nullopt;
    const auto verification_id = r[0][0].as<std::int64_t>();
    const auto contact_id = r[0][1].as<std::int64_t>();
    ConfirmedContact out;
    out.customer_id = r[0][2].c_str();
    mark_verified(w, verification_id, contact_id, "sms_reply:" + std::string(inbound_id), now);
    insert_consent(w, Channel::sms, address, std::nullopt, ConsentState::opted_in, "sms",
                   "inbound:" + std::string(inbound_id) + " verification:" + std::to_string(verification_id), now);
    out.contact = stored_contact(w, out.customer_id, contact_id);
    return out;
  });
}

Result<bool> remove_web_contact(Database& db, std::string_view customer_id, Channel channel, std::string_view address,
                                TimePoint now) {
  return transact<bool>(db, [&](pqxx::work& w) -> Result<bool> {
    const auto contact = contact_row(w, customer_id, channel, address);
    if (!contact || !contact->active) return not_found("contact_not_found", "the customer has no such contact");
    if (contact->source != "web")
      return ApiError{ErrorKind::conflict, "contact_from_cis",
                      "this contact came from the utility's records: switch it off in preferences instead", ""};
    w.exec_params(kDeactivateContact, contact->id, format_time(now));
    w.exec_params(kEndVerifications, contact->id);
    w.exec_params(kCancelWaiting, contact->id, format_time(now));
    return true;
  });
}

std::optional<std::vector<ConsentRecord>> consent_history(Database& db, std::string_view customer_id, int limit,
                                                          std::optional<std::int64_t> before_id) {
  return in_transaction(db, [&](pqxx::work& w) -> std::optional<std::vector<ConsentRecord>> {
    if (w.exec_params(kCustomerBrief, std::string(customer_id)).empty()) return std::nullopt;
    std::vector<ConsentRecord> out;
    for (const auto& row : w.exec_params(kConsentHistory, std::string(customer_id),
                                         static_cast<long long>(before_id.value_or(0)), limit)) {
      ConsentRecord c;
      c.id = row[0].as<std::int64_t>();
      c.channel = channel_of(row[1]);
      c.address = row[2].c_str();
      if (const std::string topic = row[3].c_str(); !topic.empty()) c.topic = topic_of(row[3]);
      c.state = consent_of(row[4]);
      c.source = row[5].c_str();
      c.evidence = row[6].c_str();
      c.at = time_of(row[7]);
      out.push_back(std::move(c));
    }
    return out;
  });
}

}  // namespace herald::store

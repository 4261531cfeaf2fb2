// Contacts a customer adds on the web: double opt-in (a code, or YES by SMS), removal, and the
// consent history of a customer's contacts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

struct VerificationSettings {
  Seconds code_ttl{Seconds(15 * 60)};
  int max_attempts = 5;  // wrong codes before the pending contact is locked
  int sends_per_hour_per_customer = 5;
  int sends_per_hour_per_address = 5;
};

// The message that carries the code, rendered by the caller in the customer's language.
struct VerificationText {
  std::string language;
  std::string subject, body, html;
  int segments = 0;
  std::string encoding;
};

struct StartedVerification {
  std::int64_t verification_id = 0;
  std::int64_t contact_id = 0;
  std::int64_t message_id = 0;
  TimePoint expires_at{};
};

// Customer language and whether it exists, for rendering before start_contact_verification.
struct CustomerBrief {
  std::string name;
  std::string language;
};
std::optional<CustomerBrief> customer_brief(Database& db, std::string_view customer_id);

// In one transaction: adds (or re-adds) the contact as a pending one (verified = false, source
// web; an active verified contact is left alone: conflict contact_already_verified), supersedes
// its earlier pending verifications, stores the new one with the code's hash, expiring
// code_ttl after `now`, and queues `text` as a message of type contact.verification at the
// highest priority, due now: it is not an alert, so neither preferences nor quiet hours hold
// it, but an address that opted out gets nothing (invalid, field address, address_opted_out).
// More than sends_per_hour_per_customer starts for the customer, or per address across
// customers, within the hour before `now`: rate_limited, *retry_after set to when one frees up.
// An unknown customer: not_found customer_not_found.
Result<StartedVerification> start_contact_verification(Database& db, std::string_view customer_id, Channel channel,
                                                       std::string_view address, std::string_view code_hash,
                                                       const VerificationText& text,
                                                       const VerificationSettings& settings, TimePoint now,
                                                       Seconds* retry_after = nullptr);

enum class VerifyOutcome {
  verified,          // this code confirmed it now
  already_verified,  // nothing to do: the contact is verified (a repeated request)
  wrong_code,        // counted; attempts_left says how many remain
  locked,            // too many wrong codes: a new POST of the contact starts over
  expired,           // the code's time ran out: a new POST of the contact starts over
  no_pending,        // the contact exists but has no verification under way
  not_found,         // the customer has no such active contact
};

struct VerifyResult {
  VerifyOutcome outcome = VerifyOutcome::not_found;
  int attempts_left = 0;
  Contact contact;  // verified / already_verified: the contact as stored now
};

// Checks `code_hash` against the contact's newest verification. A match marks the contact
// verified and records consent opted_in, source web, evidence naming the verification (its id
// and a prefix of the code's hash, never the code). A wrong code is counted even though the
// request fails; the max_attempts-th locks the verification.
VerifyResult verify_contact_code(Database& db, std::string_view customer_id, Channel channel,
                                 std::string_view address, std::string_view code_hash, int max_attempts,
                                 TimePoint now);

struct ConfirmedContact {
  std::string customer_id;
  Contact contact;
};

// "Reply YES" to a code text. Verifies the newest pending, unexpired, unlocked SMS verification
// on `address` (E.164) and records consent opted_in, source sms, evidence "inbound:<id>
// verification:<id>". nullopt when no verification waits on that number: the YES then means
// whatever else it may (an opt-in, per MESSAGING_RULES.md).
// The inbound pipeline calls this for a YES that no open conversation expects.
std::optional<ConfirmedContact> confirm_contact_by_reply(Database& db, std::string_view address,
                                                         std::string_view inbound_id, TimePoint now);

// Removes a contact the customer added on the web: the row stays (inactive) with its messages
// and consent history; pending verifications end and its messages still waiting (the code text,
// alerts) are suppressed as `cancelled`. not_found contact_not_found when the customer
// has no such active contact; conflict contact_from_cis for a contact the CIS supplied (it can
// be switched off in preferences, not removed).
Result<bool> remove_web_contact(Database& db, std::string_view customer_id, Channel channel, std::string_view address,
                                TimePoint now);

struct ConsentRecord {
  std::int64_t id = 0;
  Channel channel = Channel::sms;
  std::string address;
  std::optional<Topic> topic;
  ConsentState state = ConsentState::opted_in;
  std::string source;
  std::string evidence;
  TimePoint at{};
};

// The consent records of every address the customer has or had as a contact, newest first,
// at most `limit`, those with id < before_id when given. nullopt: no such customer.
std::optional<std::vector<ConsentRecord>> consent_history(Database& db, std::string_view customer_id, int limit,
                                                          std::optional<std::int64_t> before_id);

}  // namespace herald::store

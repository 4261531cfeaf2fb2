// Store-internal: the one way an opt-out is written (its record and the messages it stops).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "herald/domain/types.hpp"
#include "pg.hpp"

namespace herald::store {

// Takes the address's consent bucket lock (exclusive, held to commit: see
// 0007_opt_out_and_contact_verification.sql for how dispatch orders itself against it).
void lock_consent(pqxx::transaction_base& t, Channel channel, std::string_view address);

// Appends a consent_events row recorded at `now` (topic nullopt: every topic).
void insert_consent(pqxx::transaction_base& t, Channel channel, std::string_view address,
                    std::optional<Topic> topic, ConsentState state, std::string_view source,
                    std::string_view evidence, TimePoint now);

// Suppresses (reason opted_out) the address's messages on `channel` that still wait to go out
// (scheduled, queued, or between attempts; a lease that lapsed at `now` counts as waiting) and
// removes their queue rows. A topic opt-out stops only that topic's messages, and neither
// regulatory notices (preferences cannot switch them off) nor contact verifications; a
// topic-less one (STOP, a provider's opt-out) stops all of them. Messages leased by a running
// dispatch are left to it: it checks consent again before it sends. Call with the consent
// lock held. Returns how many messages were suppressed.
std::size_t suppress_waiting_messages(pqxx::transaction_base& t, Channel channel, std::string_view address,
                                      std::optional<Topic> topic, TimePoint now);

// lock_consent, insert_consent (opted_out) and suppress_waiting_messages, in that order.
std::size_t opt_out_in(pqxx::transaction_base& t, Channel channel, std::string_view address,
                       std::optional<Topic> topic, std::string_view source, std::string_view evidence,
                       TimePoint now);

}  // namespace herald::store

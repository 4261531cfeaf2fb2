// Consent records (append-only) and the one-click unsubscribe.
#pragma once

#include <optional>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// Appends a consent_events row recorded at `now`. topic nullopt: every topic. source is one of
// web, sms, provider, admin, cis, email.
void record_consent(Database& db, Channel channel, std::string_view address, std::optional<Topic> topic,
                    ConsentState state, std::string_view source, std::string_view evidence, TimePoint now);

// Current consent for (channel, address) and, when given, a topic: the newest row that is
// either topic-less or for that topic. opted_in when there is no row.
ConsentState current_consent(Database& db, Channel channel, std::string_view address,
                             std::optional<Topic> topic = std::nullopt);

// One-click unsubscribe: in one transaction, switch `channel` off for `topic` in the
// preferences of every customer that has this active contact, record preference_changes
// (actor "unsubscribe-link") and a consent_events row (topic set, opted_out, source "email",
// evidence), all at `now`. Returns the number of customers changed (0 is fine: idempotent).
int unsubscribe_topic(Database& db, Channel channel, std::string_view address, Topic topic,
                      std::string_view evidence, TimePoint now);

}  // namespace herald::store

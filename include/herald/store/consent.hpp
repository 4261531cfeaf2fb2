// Consent records (append-only) and the one-click unsubscribe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// The one way an opt-out is recorded, whatever its source (web, the unsubscribe link, a
// provider's 21610, an SMS STOP from the inbound pipeline, admin): in one transaction, under the
// address's consent lock, appends the opted_out consent_events row (topic nullopt: every topic)
// and suppresses with reason `opted_out` the address's messages on `channel` still waiting to
// go out (scheduled, queued, between attempts), removing their queue rows. A topic opt-out
// stops only that topic's messages and spares regulatory notices and contact verifications;
// a topic-less one stops everything on the channel, regulatory notices included
// (MESSAGING_RULES.md: SMS ones still honour STOP). A message a dispatch holds leased is left
// to it: dispatch reads consent again before every send. Returns the number suppressed.
std::size_t record_opt_out(Database& db, Channel channel, std::string_view address, std::optional<Topic> topic,
                           std::string_view source, std::string_view evidence, TimePoint now);

// Appends a consent_events row recorded at `now`. topic nullopt: every topic. source is one of
// web, sms, provider, admin, cis, email. An opted_out record goes through record_opt_out.
void record_consent(Database& db, Channel channel, std::string_view address, std::optional<Topic> topic,
                    ConsentState state, std::string_view source, std::string_view evidence, TimePoint now);

// Current consent for (channel, address) and, when given, a topic: the newest row that is
// either topic-less or for that topic. opted_in when there is no row.
ConsentState current_consent(Database& db, Channel channel, std::string_view address,
                             std::optional<Topic> topic = std::nullopt);

// One-click unsubscribe: in one transaction, switch `channel` off for `topic` in the
// preferences of every customer that has this active contact, record preference_changes
// (actor "unsubscribe-link") and a consent_events row (topic set, opted_out, source "email",
// evidence), all at `now`, and suppress the waiting messages of that topic as record_opt_out does. Returns the number of customers changed (0 is fine: idempotent).
int unsubscribe_topic(Database& db, Channel channel, std::string_view address, Topic topic,
                      std::string_view evidence, TimePoint now);

}  // namespace herald::store

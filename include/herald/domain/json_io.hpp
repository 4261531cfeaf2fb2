// Parsing and validation of API bodies into domain values, and their JSON form.
#pragma once

#include <string>
#include <string_view>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"

namespace herald {

// Parses text into JSON, rejecting nesting deeper than max_depth (malformed, code
// "json_too_deep") and text that is not JSON (malformed, code "invalid_json").
Result<Json> parse_json_body(std::string_view text, int max_depth = 32);

// PUT /v1/customers/{id}. Phone numbers are normalised to E.164 with default_region;
// emails lower-cased. Contacts are marked verified with source "cis".
// Errors name the field, e.g. "accounts[0].timezone", "contacts[1].address".
Result<Customer> parse_customer(const Json& body, std::string_view customer_id,
                                std::string_view default_region);
Json to_json(const Customer& c);
// One customer of POST /v1/customers/batch or a line of heraldd import-customers: the PUT body
// with its "customer_id" (required, at most 128 characters) beside the other fields.
Result<Customer> parse_customer_item(const Json& item, std::string_view default_region);

// POST /v1/events (one element). Validates shape only (event_id, type, account_id,
// occurred_at, data object); whether the type is known and the account exists is checked
// by the caller against config and store.
// An absent occurred_at leaves Event::occurred_at at TimePoint{} (the epoch), read as "unset".
Result<Event> parse_event(const Json& body);
Json to_json(const Event& e);
// Canonical hash of an event body for idempotency (hex SHA-256 of the sorted-key dump).
std::string event_body_hash(const Json& body);

// PUT /v1/customers/{id}/preferences. Channels must be sms/email/voice, topics
// billing/outage/other, times HH:MM. Whether a chosen channel has a contact is checked
// by the caller (it needs the stored contacts).
Result<Preferences> parse_preferences(const Json& body);
// The same, over `base`: keys absent from the body keep base's values ("topics", when
// present, replaces every topic: a topic it leaves out gets no channels). A "contacts"
// key is accepted and ignored (it is the GET shape; contacts are managed elsewhere).
Result<Preferences> parse_preferences(const Json& body, const Preferences& base);
Json to_json(const Preferences& p);

// "en", "es", "en-US": 2-3 letters, optionally "-" and 2-8 letters/digits.
bool is_language_tag(std::string_view s);
// Whether date/tz knows this IANA zone name.
bool is_known_time_zone(std::string_view name);

std::string_view to_string(ErrorKind k);
Json to_json(const ApiError& e);  // {"error": {"code", "message", "field"?}}

}  // namespace herald

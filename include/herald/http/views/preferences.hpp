// The API's view of a customer's preferences with the contacts they can choose from.
#pragma once

#include "herald/domain/types.hpp"
#include "herald/store/customers.hpp"

namespace herald::http::views {

// The preferences document (domain to_json) plus "contacts": [{channel, address, verified, consent}].
Json preferences_json(const store::PreferencesView& view);

}  // namespace herald::http::views

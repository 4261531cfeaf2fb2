// Addresses in views: masked unless the caller asked (and was allowed) to reveal them.
#pragma once

#include <string>
#include <string_view>

#include "herald/domain/types.hpp"

namespace herald::http::views {

// The address itself when revealed, else its masked form (mask_address).
std::string shown_address(const std::string& address, bool reveal);

// Replaces every string equal to `address` anywhere inside `j` with `shown`: provider payloads
// and decisions may repeat the recipient's address.
void mask_within(Json& j, std::string_view address, std::string_view shown);

}  // namespace herald::http::views

// The audit log of administrative actions.
#pragma once

#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

void audit(Database& db, std::string_view actor, std::string_view action, std::string_view target,
           const Json& detail);

}  // namespace herald::store

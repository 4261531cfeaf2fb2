// Store-internal: the outage change inside a caller's transaction (PUT and outage.updated
// events share it). Included only by src/store/*.cpp.
#pragma once

#include <string_view>

#include "herald/store/outages.hpp"
#include "pg.hpp"

namespace herald::store {

// put_outage's work in `w`; returns an error before writing anything.
Result<PutOutageResult> put_outage_in(pqxx::transaction_base& w, const OutageUpdate& update, std::string_view actor,
                                      std::string_view source, TimePoint now);

}  // namespace herald::store

// The actions inbound SMS can run (conversation replies, service keywords), registered by name.
#pragma once

#include "herald/app/config.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/store/db.hpp"

namespace herald::app {

// Registers every action heraldd knows: the built-in close and choose, then each feature's
// own (balance, payment, outage reports, registration...). The one place to add an action;
// `heraldd serve` runs the registry and `heraldd check-config` checks conversation
// declarations against its names. Actions may keep references to db and config.
void register_actions(engine::ActionRegistry& registry, const Config& config, store::Database& db);

}  // namespace herald::app

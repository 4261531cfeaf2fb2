// Wiring of the inbound actions: built-ins first, then each feature's registrations.
#include "herald/app/actions.hpp"

#include "herald/engine/service_actions.hpp"

namespace herald::app {

void register_actions(engine::ActionRegistry& registry, const Config& config, store::Database& db) {
  engine::register_builtin_actions(registry);
  // Features register their actions below, one call each.
  // BAL, PAY, OUT, STATUS, REG and reply-to-pay, with the CIS of [cis] (or none).
  engine::register_service_actions(registry, db, std::make_shared<engine::CisClient>(db, config.cis), config.services);
}

}  // namespace herald::app

// The service keywords' actions (BAL, PAY, OUT, STATUS, REG) and reply-to-pay, run by the
// inbound pipeline: balance, payment.request, payment.authorize, outage.report, outage.status,
// registration.start, registration.verify.
#pragma once

#include <memory>

#include "herald/engine/cis.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/rules/services.hpp"
#include "herald/store/db.hpp"

namespace herald::engine {

struct ServiceActionsConfig {
  rules::ServiceReplies replies = rules::default_service_replies();
  Seconds payment_confirmation_ttl{Seconds(15 * 60)};  // how long "Reply Y to pay" after PAY stays open
  Seconds registration_ttl{Seconds(15 * 60)};          // how long REG waits for the account number and ZIP
};

// What each action does:
// - balance (BAL): the CIS's balance.lookup, or without a CIS the latest billing event's
//   amount_due and due_date; "We couldn't process that right now…" when the CIS does not answer.
// - payment.request (PAY): looks the balance and card up at the CIS and asks "Reply Y to pay
//   $82.17 with the card ending 4242" (a follow-up conversation: Y -> payment.authorize,
//   N -> close). Without a CIS: payment by text is unavailable.
// - payment.authorize (Y to PAY's question or to a message type that declares it, e.g.
//   account.past_due): the CIS's payment.authorize for the conversation's account, amount and
//   card, under the idempotency key "conversation-<id>-payment.authorize", so a retried
//   request, a replayed inbound message or a second Y charges once. The CIS down keeps the
//   conversation open: Y again tries again with the same key.
// - outage.report (OUT): an outage_reports row (source sms, evidence the inbound id) and its
//   reference in the reply.
// - outage.status (STATUS): the outage at the account's premise, or "no known outage".
// - registration.start (REG) asks for the account number and service ZIP (a conversation that
//   takes any text); registration.verify checks them with the CIS's registration.lookup, or
//   against Herald's accounts without a CIS, and links the number as a verified SMS contact
//   (consent source sms, evidence the inbound id).
// Actions that need one account ask which when the number has several (ask_which_account) and
// say the number is unknown when it has none. `cis` may be unconfigured; it must outlive the
// registry's use, as must db.
void register_service_actions(ActionRegistry& registry, store::Database& db, std::shared_ptr<CisClient> cis,
                              ServiceActionsConfig config = {});

}  // namespace herald::engine

// What the service keywords read and write without a CIS: the latest bill of an account, an
// account by number and ZIP, and linking a number that registered by SMS.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// The billing event types whose data carries amount_due.
inline constexpr const char* kBillTypes = "{bill.ready,bill.due_soon,account.past_due,disconnection.scheduled}";

struct LatestBill {
  std::string event_id, type;
  std::string amount_due;  // as the CIS sent it
  std::string due_date;    // YYYY-MM-DD; "" when the event names none (account.past_due)
  TimePoint occurred_at{};
};

// The newest (by occurred_at) billing event with an amount_due among the account's recent
// billing messages: found through the messages' account index, so a BAL costs a few index
// reads however many events there are.
std::optional<LatestBill> latest_bill(Database& db, std::string_view account_id);

struct RegisteredAccount {
  std::string customer_id, account_id, premise_id;
  std::string label;     // the service address's first line
  std::string language;  // the customer's
};

// The active account with this id whose service ZIP starts with `zip` (five digits).
std::optional<RegisteredAccount> account_by_number_and_zip(Database& db, std::string_view account_id,
                                                           std::string_view zip);
// The active account with this id, whatever its ZIP (after the CIS verified the pair).
std::optional<RegisteredAccount> account_by_number(Database& db, std::string_view account_id);

// Makes `address` a verified, active SMS contact of the account's customer (source "sms") and
// records its consent (opted_in, source "sms", `evidence`, e.g. "inbound:42"), in one
// transaction at `now`.
void link_sms_contact(Database& db, const RegisteredAccount& account, std::string_view address,
                      std::string_view evidence, TimePoint now);

}  // namespace herald::store

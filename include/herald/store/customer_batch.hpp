// Many customers at once (POST /v1/customers/batch, heraldd import-customers): staged with COPY
// and merged set-based, with the same outcome as a PUT of each in turn.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

enum class MergeStatus { created, updated, unchanged, rejected };
std::string_view to_string(MergeStatus s);

struct MergeResult {
  MergeStatus status = MergeStatus::rejected;
  std::optional<ApiError> error;  // why, when rejected
};

// The customer and account ids of one round: customers merged in one transaction. A customer
// that repeats an id already in the round cannot join it (one statement cannot write a row
// twice); it goes into the next round, so it is merged after the earlier one, as if each
// were PUT in turn.
class MergeRound {
 public:
  // Adds the customer's ids and returns true, or returns false (and adds nothing) when one
  // of them is already in the round.
  bool add(const Customer& customer);
  void clear();
  std::size_t size() const { return customers_.size(); }

 private:
  std::set<std::string> customers_;
  std::set<std::string> accounts_;
};

// Creates or replaces each customer as upsert_customer would (accounts replaced, contacts
// upserted as verified source "cis", dropped ones kept inactive, an opted_in "cis" consent
// record for an address with no history, default preferences for a new customer), one round
// per transaction: a round commits whole or not at all. Within a round each customer is
// all-or-nothing: one claiming an account another customer holds active is rejected
// ("account_owned_elsewhere", conflict), the others are stored. A customer whose stored form
// already matches is "unchanged" and nothing of it is written. Results follow the input order.
//
// Customers must be valid (parse_customer's checks). Rounds are cut with MergeRound; a caller
// that needs one transaction passes a list that fits one round.
std::vector<MergeResult> merge_customers(Database& db, const std::vector<Customer>& customers,
                                         const Preferences& default_prefs, std::string_view actor, TimePoint now);

}  // namespace herald::store

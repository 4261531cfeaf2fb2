// Many customers at once (POST /v1/customers/batch, heraldd import-customers): staged with COPY
// and merged set-based, with the same outcome as a PUT of each in turn.
#pragma once

#include <functional>
#include <memory>
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

// How a round holds the consent buckets of its contacts (0006) while it writes them and their
// initial consent.
// - exclusive: as every other consent writer; two merges whose contacts share a bucket run one
//   after the other. A round of thousands of contacts holds nearly every bucket, so concurrent
//   merges are serial.
// - shared: merges do not wait for each other (opt-outs, PUTs and exclusive merges still do).
//   Safe only when no two merges running at once write the same address: the caller holds the
//   ImportLock and keeps the rounds it runs at the same time address-disjoint
//   (import-customers' --jobs).
enum class ConsentLocks { exclusive, shared };

// Creates or replaces each customer as upsert_customer would (accounts replaced, contacts
// upserted as verified source "cis", dropped ones kept inactive, an opted_in "cis" consent
// record for an address with no history, default preferences for a new customer), one round
// per transaction: a round commits whole or not at all. Within a round each customer is
// all-or-nothing: one claiming an account another customer holds active is rejected
// ("account_owned_elsewhere", conflict), the others are stored. A customer whose stored form
// already matches is "unchanged" and nothing of it is written. Results follow the input order.
//
// A customer that touches nothing stored (no such customer, none of its accounts, no consent
// history for its addresses) and shares no address with another of its round is copied straight
// into the tables, with the same outcome; the others are staged and merged.
//
// Customers must be valid (parse_customer's checks). Rounds are cut with MergeRound; a caller
// that needs one transaction passes a list that fits one round.
std::vector<MergeResult> merge_customers(Database& db, const std::vector<Customer>& customers,
                                         const Preferences& default_prefs, std::string_view actor, TimePoint now,
                                         ConsentLocks locks = ConsentLocks::exclusive);

// One import-customers at a time per database: a session advisory lock on a connection of its
// own, held until destruction. Its holder may merge with ConsentLocks::shared.
class ImportLock {
 public:
  // Waits for an earlier holder to finish; calls `waiting` once first if it has to.
  ImportLock(const Database& db, const std::function<void()>& waiting);
  ~ImportLock();
  ImportLock(const ImportLock&) = delete;
  ImportLock& operator=(const ImportLock&) = delete;

 private:
  struct Held;
  std::unique_ptr<Held> held_;
};

}  // namespace herald::store

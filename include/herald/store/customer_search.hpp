// The admin's customer search: by name, phone, email, customer, account or premise id.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// What to look for. `text` is matched exactly against customer, account and premise ids, and
// as a case-insensitive substring of the name when it has at least kMinNameSearch characters
// (shorter fragments would match most names and no trigram could narrow them). `phone` (E.164)
// and `email` (normalised) match contact addresses exactly; empty means not searched.
struct CustomerSearch {
  std::string text, phone, email;
  std::string after_customer_id;  // keyset: only customers whose id sorts after this
  int limit = 50;                 // clamped to 1..500
};
inline constexpr std::size_t kMinNameSearch = 3;

struct CustomerMatch {
  Customer customer;                    // active accounts and contacts, consent current
  std::vector<std::string> matched_by;  // of "name", "phone", "email", "customer_id", "account_id", "premise_id"
};

struct CustomerSearchPage {
  std::vector<CustomerMatch> items;            // by customer id
  std::optional<std::string> next_after;       // where the next page starts; absent on the last page
};

CustomerSearchPage search_customers(Database& db, const CustomerSearch& search);

}  // namespace herald::store

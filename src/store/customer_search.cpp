// The admin's customer search: one statement finds the page of matching customers through the
// indexes of each kind of key, two more load their accounts and contacts.
#include "herald/store/customer_search.hpp"

#include <algorithm>
#include <map>

#include "repo_util.hpp"

namespace herald::store {

namespace {

constexpr int kMaxLimit = 500;

// Each branch is served by its own index: the trigram index of names (0010), contacts_address,
// the accounts' primary key and accounts_premise, the customers' primary key. A switched-off
// branch ($n = '') is folded away at plan time. The page is cut by customer id (keyset); the
// name branch, the only one that may match thousands, is cut to one page by itself, so a
// common name is read in customer id order until a page is full instead of in full.
const char* const kSearch = R"SQL(
WITH hits (customer_id, matched) AS (
  (SELECT customer_id, 'name' FROM herald.customers
    WHERE $2 <> '' AND name ILIKE '%' || $2 || '%' AND customer_id > $5
    ORDER BY customer_id LIMIT $6::integer)
  UNION ALL
  SELECT customer_id, 'customer_id' FROM herald.customers WHERE customer_id = $1
  UNION ALL
  SELECT customer_id, 'account_id' FROM herald.accounts WHERE account_id = $1
  UNION ALL
  SELECT customer_id, 'premise_id' FROM herald.accounts WHERE $1 <> '' AND premise_id = $1
  UNION ALL
  SELECT customer_id, 'phone' FROM herald.contacts
   WHERE $3 <> '' AND channel IN ('sms', 'voice') AND address = $3
  UNION ALL
  SELECT customer_id, 'email' FROM herald.contacts WHERE $4 <> '' AND channel = 'email' AND address = $4
)
SELECT c.customer_id, c.name, c.language, to_jsonb(array_agg(DISTINCT h.matched))::text
FROM hits h JOIN herald.customers c ON c.customer_id = h.customer_id
WHERE h.customer_id > $5
GROUP BY c.customer_id
ORDER BY c.customer_id
LIMIT $6::integer)SQL";

const char* const kPageAccounts =
    "SELECT customer_id, account_id, premise_id, service_address::text, timezone, feeder,"
    " to_jsonb(segments)::text, language"
    " FROM herald.accounts"
    " WHERE customer_id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND active"
    " ORDER BY customer_id, account_id";

const char* const kPageContacts =
    "SELECT customer_id, contact_id, channel, address, verified, source, consent"
    " FROM herald.contacts"
    " WHERE customer_id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND active"
    " ORDER BY customer_id, contact_id";

std::string text_member(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

CustomerSearchPage search_customers(Database& db, const CustomerSearch& s) {
  const int limit = std::clamp(s.limit, 1, kMaxLimit);
  const std::string name = s.text.size() >= kMinNameSearch ? like_escape(s.text) : std::string();
  CustomerSearchPage page;
  in_transaction(db, [&](pqxx::work& w) {
    page = CustomerSearchPage{};
    // One row more than asked tells whether there is a next page.
    const auto rows = w.exec_params(kSearch, s.text, name, s.phone, s.email, s.after_customer_id, limit + 1);
    std::map<std::string, std::size_t> index;
    Json ids = Json::array();
    for (const auto& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_after = page.items.back().customer.customer_id;
        break;
      }
      CustomerMatch m;
      m.customer.customer_id = row[0].c_str();
      m.customer.name = row[1].c_str();
      m.customer.language = row[2].c_str();
      m.matched_by = json_of(row[3]).get<std::vector<std::string>>();
      index[m.customer.customer_id] = page.items.size();
      ids.push_back(m.customer.customer_id);
      page.items.push_back(std::move(m));
    }
    if (page.items.empty()) return;
    const auto list = ids.dump();
    for (const auto& row : w.exec_params(kPageAccounts, list)) {
      Account a;
      a.account_id = row[1].c_str();
      a.premise_id = row[2].c_str();
      const auto address = json_of(row[3]);
      a.service_address = {text_member(address, "line1"), text_member(address, "line2"), text_member(address, "city"),
                           text_member(address, "state"), text_member(address, "zip")};
      a.timezone = row[4].c_str();
      a.feeder = row[5].c_str();
      a.segments = json_of(row[6]).get<std::vector<std::string>>();
      a.language = row[7].c_str();
      page.items[index.at(row[0].c_str())].customer.accounts.push_back(std::move(a));
    }
    for (const auto& row : w.exec_params(kPageContacts, list)) {
      Contact c;
      c.id = row[1].as<std::int64_t>();
      c.channel = channel_of(row[2]);
      c.address = row[3].c_str();
      c.verified = row[4].as<bool>();
      c.source = row[5].c_str();
      c.consent = consent_of(row[6]);
      page.items[index.at(row[0].c_str())].customer.contacts.push_back(std::move(c));
    }
  });
  return page;
}

}  // namespace herald::store

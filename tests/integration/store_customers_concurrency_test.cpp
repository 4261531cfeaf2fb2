// Concurrent customer writes against a real Postgres: contacts sharing consent lock buckets in
// opposite orders must queue, never deadlock into an error.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "herald/store/customers.hpp"
#include "store_test_util.hpp"
#include "test_db.hpp"

namespace herald::store {
namespace {

using herald::test::default_preferences;
using herald::test::make_contact;
using herald::test::make_customer;
using herald::test::TestDb;

constexpr int kCustomers = 24;
constexpr int kBuckets = 12;
constexpr int kRounds = 4;

// Email addresses grouped by consent lock bucket, computed by Postgres exactly as the consent
// lock does (hashtext of "channel:address", low 8 bits).
std::map<int, std::vector<std::string>> addresses_by_bucket(TestDb& t) {
  t.exec(
      "CREATE TABLE public.bucketed AS"
      " SELECT 'u' || n || '@example.com' AS address, hashtext('email:u' || n || '@example.com') & 255 AS bucket"
      " FROM generate_series(1, 30000) n");
  std::map<int, std::vector<std::string>> out;
  for (int bucket = 0; bucket < 256 && static_cast<int>(out.size()) < kBuckets; ++bucket) {
    const auto list = t.query_value("SELECT string_agg(address, ',' ORDER BY address) FROM public.bucketed"
                                    " WHERE bucket = " + std::to_string(bucket));
    std::vector<std::string> addresses;
    for (std::size_t start = 0; start < list.size();) {
      auto end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      addresses.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    if (static_cast<int>(addresses.size()) >= kCustomers) out.emplace(bucket, std::move(addresses));
  }
  return out;
}

TEST(StoreCustomersConcurrency, PutsWhoseContactsShareBucketsInOppositeOrdersAllSucceed) {
  TestDb t(kCustomers);
  const auto buckets = addresses_by_bucket(t);
  ASSERT_EQ(static_cast<int>(buckets.size()), kBuckets);

  // Customer i has one address in each chosen bucket, its own addresses: even customers list
  // them in ascending bucket order, odd ones in descending order.
  std::vector<Customer> customers;
  for (int i = 0; i < kCustomers; ++i) {
    std::vector<Contact> contacts;
    for (const auto& [bucket, addresses] : buckets) contacts.push_back(make_contact(Channel::email, addresses[i]));
    if (i % 2) std::reverse(contacts.begin(), contacts.end());
    customers.push_back(make_customer("C-" + std::to_string(i), {"A-" + std::to_string(i)}, std::move(contacts)));
  }

  std::atomic<int> failures{0};
  std::vector<std::string> errors(kCustomers);
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> arrived{0};
    std::vector<std::thread> writers;
    for (int i = 0; i < kCustomers; ++i) {
      writers.emplace_back([&, i] {
        // Start together so the transactions overlap.
        arrived.fetch_add(1);
        while (arrived.load() < kCustomers) std::this_thread::yield();
        try {
          auto r = upsert_customer(t.db(), customers[i], default_preferences(), "cis:test", herald::test::test_now());
          if (!r.ok()) {
            failures.fetch_add(1);
            errors[i] = r.error().code;
          }
        } catch (const std::exception& e) {
          failures.fetch_add(1);
          errors[i] = e.what();
        }
      });
    }
    for (auto& w : writers) w.join();
    for (int i = 0; i < kCustomers; ++i) EXPECT_EQ(errors[i], "") << "round " << round << ", customer " << i;
    ASSERT_EQ(failures.load(), 0) << "round " << round;
  }

  EXPECT_EQ(t.query_value("SELECT count(*) FROM herald.contacts WHERE active AND consent = 'opted_in'"),
            std::to_string(kCustomers * kBuckets));
}

}  // namespace
}  // namespace herald::store

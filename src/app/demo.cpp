// Demo customers for the embedded default: two time zones, every channel, one Spanish speaker.
#include <iostream>

#include "herald/app/commands.hpp"
#include "herald/rules/clock.hpp"
#include "herald/store/customers.hpp"

namespace herald::app {

namespace {

Customer demo_customer(const std::string& id, const std::string& name, const std::string& language,
                       const std::string& timezone, const std::string& city, const std::string& state,
                       const std::string& zip, const std::string& phone, const std::string& email) {
  Customer c;
  c.customer_id = id;
  c.name = name;
  c.language = language;
  Account a;
  a.account_id = "A-" + id;
  a.premise_id = "P-" + id;
  a.service_address = {"12 Main St", "", city, state, zip};
  a.timezone = timezone;
  a.feeder = "F-12";
  c.accounts.push_back(a);
  for (auto channel : {Channel::sms, Channel::voice})
    c.contacts.push_back(Contact{0, channel, phone, true, true, ConsentState::opted_in, "cis"});
  c.contacts.push_back(Contact{0, Channel::email, email, true, true, ConsentState::opted_in, "cis"});
  return c;
}

}  // namespace

int run_seed_demo(const Config& config) {
  store::Database db(config.database_url, 1);
  const Customer customers[] = {
      demo_customer("demo-1", "Ada Lovelace", "en", "America/Chicago", "Springfield", "IL", "62701", "+12175550101",
                    "ada@example.com"),
      demo_customer("demo-2", "Grace Hopper", "en", "America/Chicago", "Springfield", "IL", "62702", "+12175550102",
                    "grace@example.com"),
      demo_customer("demo-3", "Lucía Fernández", "es", "America/Los_Angeles", "Fresno", "CA", "93701",
                    "+15595550103", "lucia@example.com"),
      demo_customer("demo-4", "Alan Turing", "en", "America/Los_Angeles", "Fresno", "CA", "93702", "+15595550104",
                    "alan@example.com"),
  };
  const auto now = rules::SystemClock().now();
  for (const auto& c : customers) {
    auto stored = store::upsert_customer(db, c, config.rules.default_preferences, "seed-demo", now);
    if (!stored) {
      std::cerr << "seed-demo: " << c.customer_id << ": " << stored.error().message << "\n";
      return 1;
    }
  }
  std::cout << "demo customers: demo-1 .. demo-4 (accounts A-demo-1 .. A-demo-4)\n";
  return 0;
}

}  // namespace herald::app

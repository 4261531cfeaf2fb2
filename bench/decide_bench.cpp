// The rules engine's cost per event: decide + render for a bill.ready on SMS and email, the
// work intake does for every event. The baseline, run in the same process, is the cheapest
// thing intake must do anyway for an event: parse its JSON data and dump a message-sized JSON.
//
//   build/bench/decide_bench            (run from anywhere; templates come from the source tree)
#include <filesystem>

#include <benchmark/benchmark.h>

#include "herald/rules/decide.hpp"
#include "herald/source_dir.hpp"

namespace {

using namespace herald;

const rules::TemplateStore& shipped_templates() {
  static const rules::TemplateStore store(std::filesystem::path(HERALD_SOURCE_DIR) / "config" / "templates");
  return store;
}

Contact contact(std::int64_t id, Channel channel, std::string address) {
  Contact c;
  c.id = id;
  c.channel = channel;
  c.address = std::move(address);
  c.verified = true;
  return c;
}

struct Fixture {
  PublicUrls urls{"https://herald.example.com"};
  TokenSecret secret{"bench-secret"};
  rules::RulesConfig cfg = rules::default_rules_config();
  RecipientContext r;
  Event e;
  TimePoint now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());

  Fixture() {
    cfg.utility_name = "Springfield Utilities";
    cfg.public_urls = &urls;
    cfg.token_secret = &secret;
    r.customer.customer_id = "C-641";
    r.customer.name = "Customer 641";
    r.account.account_id = "A-641";
    r.account.timezone = "America/Chicago";
    r.account.service_address = {"641 Main St", "", "Springfield", "IL", "62701"};
    r.preferences = cfg.default_preferences;
    r.preferences.quiet_hours.enabled = false;  // always "send now", whatever the hour of the run
    r.contacts = {contact(1, Channel::sms, "+12175000641"), contact(2, Channel::email, "customer641@example.com")};
    e.event_id = "bill-641";
    e.type = "bill.ready";
    e.account_id = "A-641";
    e.occurred_at = now;
    e.data = {{"amount_due", "121.41"}, {"due_date", "2026-12-13"}, {"bill_url", "https://billing.utility.example/b/641"}};
  }
};

void BM_DecideBillReady(benchmark::State& state) {
  Fixture f;
  const auto& templates = shipped_templates();
  for (auto _ : state) {
    auto ds = rules::decide(f.e, f.r, f.cfg, templates, f.now);
    benchmark::DoNotOptimize(ds);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecideBillReady);

// Baseline: parse the event's data as it comes from Postgres and write one JSON object of a
// message's size, the least any intake does per event.
void BM_BaselineJsonRoundTrip(benchmark::State& state) {
  Fixture f;
  const std::string data = f.e.data.dump();
  for (auto _ : state) {
    auto parsed = Json::parse(data);
    Json m = {{"event_id", f.e.event_id}, {"customer_id", f.r.customer.customer_id}, {"data", parsed},
              {"address", f.r.contacts[0].address}, {"channel", "sms"}, {"status", "queued"}};
    auto text = m.dump();
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselineJsonRoundTrip);

}  // namespace

BENCHMARK_MAIN();

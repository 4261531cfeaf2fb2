// The log gateway's cost per message, the gateway the dispatch benchmark (bench/load/run.py) sends
// every message through: it must stay a small part of dispatch's budget. The baseline, run in the
// same process, is the least any logging gateway does per message: format one line of the same
// shape into the same (discarding) logger. Prints the gateway's rate as a ratio of the baseline's.
//
//   build/bench/gateway_bench
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "herald/gateways/gateway.hpp"

namespace {

using namespace herald;

constexpr int kBatch = 1000;

// Logs go to a null sink at info level, so the formatting work is done and nothing is written.
void use_null_logger() {
  static const bool done = [] {
    auto logger = std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)done;
}

std::vector<gateways::OutboundMessage> sms_batch() {
  std::vector<gateways::OutboundMessage> batch;
  for (int i = 0; i < kBatch; ++i) {
    gateways::OutboundMessage m;
    m.id = 1000 + i;
    m.channel = Channel::sms;
    m.to = "+12175550101";
    m.body = "Springfield Utilities: your bill of $42.10 is ready, due Dec 13. Reply STOP to opt out.";
    m.idempotency_key = "herald-" + std::to_string(m.id);
    batch.push_back(m);
  }
  return batch;
}

void BM_LogGatewaySendBatch(benchmark::State& state) {
  use_null_logger();
  auto gateway = gateways::make_gateway({"bench-log", "log", Channel::sms, 50, 50, {}});
  if (!gateway) {
    state.SkipWithError(gateway.error().message.c_str());
    return;
  }
  const auto batch = sms_batch();
  for (auto _ : state) {
    auto results = (*gateway)->send_batch(batch);
    benchmark::DoNotOptimize(results);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_LogGatewaySendBatch);

// Baseline: one formatted line per message into the same logger, nothing else.
void BM_BaselineOneLogLinePerMessage(benchmark::State& state) {
  use_null_logger();
  const auto batch = sms_batch();
  spdlog::logger* logger = spdlog::default_logger_raw();
  for (auto _ : state) {
    for (const auto& m : batch) {
      logger->info("gateway {} ({}) message {} to {}: body {} bytes", "bench-log", "sms", m.id, m.to, m.body.size());
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_BaselineOneLogLinePerMessage);

// The console report, plus each benchmark's items/s kept for the ratio printed at the end.
class RateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it != run.counters.end()) rates_[run.run_name.function_name] = it->second.value;
    }
  }
  double rate(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  const double gateway = reporter.rate("BM_LogGatewaySendBatch");
  const double baseline = reporter.rate("BM_BaselineOneLogLinePerMessage");
  if (gateway > 0 && baseline > 0) {
    std::printf("log gateway: %.0f messages/s, %.2f x the baseline (%.0f lines/s)\n", gateway, gateway / baseline,
                baseline);
  }
  return 0;
}

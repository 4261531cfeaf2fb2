// heraldd import-customers: JSON lines of customers, validated here, merged in chunks of one transaction each.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "herald/app/commands.hpp"
#include "herald/domain/json_io.hpp"
#include "herald/rules/clock.hpp"
#include "herald/store/customer_batch.hpp"

namespace herald::app {

namespace {

constexpr const char* kActor = "import-customers";
// Beyond this many, rejected lines are counted but no longer listed: memory stays flat
// whatever the file holds.
constexpr std::size_t kMaxListedRejections = 10000;

struct Chunk {
  std::vector<Customer> customers;
  std::vector<std::size_t> lines;  // the line number of each customer
};

struct Rejection {
  std::size_t line = 0;
  std::string customer_id;
  ApiError error;
};

// Lines read and parsed on one thread while the previous chunk is merged on another; at most
// two chunks wait, so a fast reader cannot run ahead of the database with the whole file.
class ChunkQueue {
 public:
  static constexpr std::size_t kCapacity = 2;

  // False when the consumer gave up (the chunk is dropped).
  bool push(Chunk chunk) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopped_ || chunks_.size() < kCapacity; });
    if (stopped_) return false;
    chunks_.push_back(std::move(chunk));
    changed_.notify_all();
    return true;
  }
  // Empty once the reader is done and everything was taken.
  std::optional<Chunk> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopped_ || finished_ || !chunks_.empty(); });
    if (chunks_.empty()) return std::nullopt;
    Chunk c = std::move(chunks_.front());
    chunks_.pop_front();
    changed_.notify_all();
    return c;
  }
  void finish() {
    std::lock_guard lock(mutex_);
    finished_ = true;
    changed_.notify_all();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    chunks_.clear();
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk> chunks_;
  bool finished_ = false;
  bool stopped_ = false;
};

struct Progress {
  std::atomic<std::size_t> read{0}, created{0}, updated{0}, unchanged{0}, rejected{0};
  std::size_t loaded() const { return created + updated + unchanged; }
};

class Rejections {
 public:
  void add(Rejection r, Progress& progress) {
    ++progress.rejected;
    std::lock_guard lock(mutex_);
    if (listed_.size() < kMaxListedRejections) listed_.push_back(std::move(r));
  }
  // In line order (the reader and the merge find them at different times).
  std::vector<Rejection> sorted() {
    std::lock_guard lock(mutex_);
    auto out = listed_;
    std::sort(out.begin(), out.end(), [](const Rejection& a, const Rejection& b) { return a.line < b.line; });
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<Rejection> listed_;
};

std::string describe(const ApiError& e) {
  std::string out = e.field.empty() ? e.message : e.field + ": " + e.message;
  return out + " (" + e.code + ")";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void print_progress(const Progress& p, double elapsed) {
  const auto loaded = p.loaded();
  std::fprintf(stderr, "import-customers: %zu lines read, %zu loaded, %zu rejected, %.0f customers/s\n",
               p.read.load(), loaded, p.rejected.load(), elapsed > 0 ? static_cast<double>(loaded) / elapsed : 0.0);
}

// Reads every line; hands valid customers on in chunks that each fit one merge round.
void read_lines(std::istream& in, const Config& config, std::size_t chunk_size, ChunkQueue& queue,
                Progress& progress, Rejections& rejections) {
  Chunk chunk;
  store::MergeRound round;
  std::string line;
  std::size_t line_number = 0;
  auto hand_on = [&] {
    if (chunk.customers.empty()) return true;
    const bool taken = queue.push(std::move(chunk));
    chunk = Chunk{};
    round.clear();
    return taken;
  };
  while (std::getline(in, line)) {
    ++line_number;
    ++progress.read;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines carry nothing
    auto json = parse_json_body(line, config.http.json_max_depth);
    if (!json) {
      rejections.add({line_number, "", json.error()}, progress);
      continue;
    }
    auto customer = parse_customer_item(*json, config.http.default_region);
    if (!customer) {
      const auto id = json->is_object() ? json->find("customer_id") : json->end();
      rejections.add({line_number, id != json->end() && id->is_string() ? id->get<std::string>() : "",
                      customer.error()},
                     progress);
      continue;
    }
    // A customer or account already in this chunk is merged in the next one, after it.
    if (chunk.customers.size() >= chunk_size || !round.add(*customer)) {
      if (!hand_on()) return;
      round.add(*customer);
    }
    chunk.customers.push_back(std::move(*customer));
    chunk.lines.push_back(line_number);
  }
  if (in.bad()) throw std::runtime_error("reading failed after line " + std::to_string(line_number));
  hand_on();
}

}  // namespace

int run_import_customers(const Config& config, const std::string& path, std::size_t chunk_size) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) {
      std::cerr << "import-customers: cannot open " << path << "\n";
      return 2;
    }
  }
  std::istream& in = path == "-" ? std::cin : file;
  store::Database db(config.database_url, 1);

  Progress progress;
  Rejections rejections;
  ChunkQueue queue;
  const auto start = std::chrono::steady_clock::now();
  std::exception_ptr reader_error;
  std::thread reader([&] {
    try {
      read_lines(in, config, chunk_size, queue, progress, rejections);
    } catch (...) {
      reader_error = std::current_exception();
    }
    queue.finish();
  });

  std::mutex ticker_mutex;
  std::condition_variable ticker_wake;
  bool done = false;
  std::thread ticker([&] {
    std::unique_lock lock(ticker_mutex);
    while (!ticker_wake.wait_for(lock, std::chrono::seconds(1), [&] { return done; }))
      print_progress(progress, seconds_since(start));
  });

  std::string failure;
  try {
    while (auto chunk = queue.pop()) {
      const auto results = store::merge_customers(db, chunk->customers, config.rules.default_preferences, kActor,
                                                  rules::SystemClock().now());
      for (std::size_t i = 0; i < results.size(); ++i) {
        switch (results[i].status) {
          case store::MergeStatus::created: ++progress.created; break;
          case store::MergeStatus::updated: ++progress.updated; break;
          case store::MergeStatus::unchanged: ++progress.unchanged; break;
          case store::MergeStatus::rejected:
            rejections.add({chunk->lines[i], chunk->customers[i].customer_id,
                            results[i].error.value_or(ApiError{ErrorKind::invalid, "rejected", "rejected", ""})},
                           progress);
            break;
        }
      }
    }
  } catch (const std::exception& e) {
    failure = e.what();
    queue.stop();
  }
  reader.join();
  {
    std::lock_guard lock(ticker_mutex);
    done = true;
  }
  ticker_wake.notify_all();
  ticker.join();
  if (failure.empty() && reader_error) {
    try {
      std::rethrow_exception(reader_error);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }

  const double elapsed = seconds_since(start);
  const auto loaded = progress.loaded();
  std::printf("import-customers: %zu lines, %zu loaded (%zu created, %zu updated, %zu unchanged), %zu rejected"
              " in %.1f s (%.0f customers/s)\n",
              progress.read.load(), loaded, progress.created.load(), progress.updated.load(),
              progress.unchanged.load(), progress.rejected.load(), elapsed,
              elapsed > 0 ? static_cast<double>(loaded) / elapsed : 0.0);
  const auto listed = rejections.sorted();
  for (const auto& r : listed)
    std::printf("rejected line %zu%s: %s\n", r.line,
                r.customer_id.empty() ? "" : (" (customer " + r.customer_id + ")").c_str(), describe(r.error).c_str());
  if (progress.rejected > listed.size())
    std::printf("(%zu more rejected lines not listed)\n", progress.rejected.load() - listed.size());
  std::fflush(stdout);
  if (!failure.empty()) {
    std::cerr << "import-customers: stopped: " << failure
              << " (every chunk before the failing one is stored; that chunk and the rest are not)\n";
    return 1;
  }
  return progress.rejected > 0 ? 3 : 0;
}

}  // namespace herald::app

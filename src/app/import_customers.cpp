// heraldd import-customers: JSON lines of customers, validated here, merged in chunks of one transaction each,
// several chunks at once on as many connections (--jobs).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
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

// Hashes of what two chunks merged at the same time must not share: customer ids, account ids
// and contact addresses. A collision of two hashes only makes a chunk wait for no reason.
using ChunkKeys = std::unordered_set<std::uint64_t>;

std::uint64_t key_of(char kind, std::string_view a, std::string_view b = {}) {
  const auto h = std::hash<std::string_view>{}(a) * 31 + std::hash<std::string_view>{}(b);
  return h * 131 + static_cast<unsigned char>(kind);
}

void add_keys(const Customer& c, ChunkKeys& keys) {
  keys.insert(key_of('c', c.customer_id));
  for (const auto& a : c.accounts) keys.insert(key_of('a', a.account_id));
  for (const auto& k : c.contacts) keys.insert(key_of('k', to_string(k.channel), k.address));
}

bool overlap(const ChunkKeys& a, const ChunkKeys& b) {
  const auto& small = a.size() < b.size() ? a : b;
  const auto& large = a.size() < b.size() ? b : a;
  return std::any_of(small.begin(), small.end(), [&](std::uint64_t k) { return large.count(k) > 0; });
}

struct Chunk {
  std::size_t seq = 0;  // its place in the file's order of chunks
  std::vector<Customer> customers;
  std::vector<std::size_t> lines;  // the line number of each customer
  ChunkKeys keys;
};

struct Rejection {
  std::size_t line = 0;
  std::string customer_id;
  ApiError error;
};

// Lines read and parsed on one thread while earlier chunks are merged on others; at most
// `capacity` chunks wait, so a fast reader cannot run ahead of the database with the whole file.
class ChunkQueue {
 public:
  explicit ChunkQueue(std::size_t capacity) : capacity_(capacity) {}

  // False when the consumer gave up (the chunk is dropped).
  bool push(Chunk chunk) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stopped_ || chunks_.size() < capacity_; });
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
  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk> chunks_;
  bool finished_ = false;
  bool stopped_ = false;
};

// The chunks being merged. A chunk starts only once no earlier chunk still being merged shares
// a key with it: a customer listed twice ends as its later line says (as PUTs in turn), and
// rounds that hold their consent buckets in shared mode never write one address at once.
class InFlight {
 public:
  // Takes the next chunk in file order and waits until it may be merged; empty when there is
  // none left or the import stopped.
  std::optional<Chunk> next(ChunkQueue& queue) {
    std::optional<Chunk> chunk;
    {
      std::lock_guard order(taking_);  // chunks are registered in the order they were read
      chunk = queue.pop();
      if (!chunk) return chunk;
      std::lock_guard lock(mutex_);
      running_.emplace(chunk->seq, std::move(chunk->keys));
    }
    std::unique_lock lock(mutex_);
    const ChunkKeys& keys = running_.at(chunk->seq);
    changed_.wait(lock, [&] {
      for (const auto& [seq, other] : running_) {
        if (seq >= chunk->seq) break;
        if (overlap(keys, other)) return false;
      }
      return true;
    });
    return chunk;
  }
  void done(std::size_t seq) {
    std::lock_guard lock(mutex_);
    running_.erase(seq);
    changed_.notify_all();
  }

 private:
  std::mutex taking_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::size_t, ChunkKeys> running_;
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
    const auto seq = chunk.seq;
    const bool taken = queue.push(std::move(chunk));
    chunk = Chunk{};
    chunk.seq = seq + 1;
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
    add_keys(*customer, chunk.keys);
    chunk.customers.push_back(std::move(*customer));
    chunk.lines.push_back(line_number);
  }
  if (in.bad()) throw std::runtime_error("reading failed after line " + std::to_string(line_number));
  hand_on();
}

}  // namespace

int run_import_customers(const Config& config, const std::string& path, std::size_t chunk_size, std::size_t jobs) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) {
      std::cerr << "import-customers: cannot open " << path << "\n";
      return 2;
    }
  }
  std::istream& in = path == "-" ? std::cin : file;
  jobs = std::max<std::size_t>(jobs, 1);
  store::Database db(config.database_url, jobs);
  db.set_session({"heraldd import-customers", config.database_idle_transaction_timeout});
  // Its rounds share consent buckets with each other, not with a second import.
  store::ImportLock alone(db, [] {
    std::fprintf(stderr, "import-customers: waiting for another import-customers on this database to finish\n");
  });

  Progress progress;
  Rejections rejections;
  ChunkQueue queue(jobs + 1);
  InFlight in_flight;
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

  std::mutex failure_mutex;
  std::string failure;
  std::atomic<bool> failed{false};
  auto merge_chunks = [&] {
    while (auto chunk = in_flight.next(queue)) {
      if (failed) {  // taken before the failure, started after it
        in_flight.done(chunk->seq);
        break;
      }
      try {
        const auto results =
            store::merge_customers(db, chunk->customers, config.rules.default_preferences, kActor,
                                   rules::SystemClock().now(), store::ConsentLocks::shared);
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
      } catch (const std::exception& e) {
        std::lock_guard lock(failure_mutex);
        if (failure.empty())
          failure = std::string(e.what()) + " (lines " + std::to_string(chunk->lines.front()) + " to " +
                    std::to_string(chunk->lines.back()) + ")";
        failed = true;
        queue.stop();
      }
      in_flight.done(chunk->seq);
    }
  };
  std::vector<std::thread> mergers;
  for (std::size_t i = 1; i < jobs; ++i) mergers.emplace_back(merge_chunks);
  merge_chunks();
  for (auto& t : mergers) t.join();
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
              << " (the customers counted as loaded above are stored; those of that chunk and of the chunks not"
                 " yet merged are not)\n";
    return 1;
  }
  return progress.rejected > 0 ? 3 : 0;
}

}  // namespace herald::app

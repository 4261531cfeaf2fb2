// The text indexer's thread: rounds of store::index_message_text, paced so the hot path comes first.
#include "herald/engine/text_indexer.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "herald/domain/metrics.hpp"
#include "herald/store/message_text.hpp"
#include "herald/store/pool.hpp"

namespace herald::engine {

bool BacklogYield::yields(std::size_t due, Clock::time_point now) {
  if (backlog_ == 0 || due < backlog_) {
    backlogged_ = false;  // the backlog is gone: the next one may be waited out again
    return false;
  }
  if (!backlogged_) {
    backlogged_ = true;
    since_ = now;
  }
  return now - since_ < max_;
}

struct TextIndexer::Impl {
  store::Database& db;
  TextIndexerConfig config;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool flush_warned = false;

  Impl(store::Database& d, TextIndexerConfig c) : db(d), config(c) {}

  // Waits for the pause; false once stopping.
  bool pause_for(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, d, [&] { return stopping; });
    return !stopping;
  }

  void run() {
    auto& registry = metrics::Registry::global();
    auto& indexed_total = registry.counter("herald_text_indexed_total", "Messages whose text the indexer has written");
    auto& behind = registry.gauge("herald_text_index_behind",
                                  "Message ids above the text index's watermark (searched by scanning)");
    auto& yielding = registry.gauge("herald_text_index_yielding",
                                    "1 while the text indexer gives way to a dispatch backlog (search.yield_backlog)");
    auto backoff = std::chrono::milliseconds(100);
    BacklogYield yield(config.yield_backlog, config.yield_max);
    for (;;) {
      std::chrono::milliseconds wait = config.poll_interval;
      try {
        const auto started = std::chrono::steady_clock::now();
        if (yield.enabled()) {
          const bool gives_way = yield.yields(
              store::due_dispatch_backlog(db, config.yield_backlog,
                                       std::chrono::time_point_cast<std::chrono::microseconds>(
                                           std::chrono::system_clock::now())),
              started);
          yielding.set(gives_way ? 1.0 : 0.0);
          if (gives_way) {
            backoff = std::chrono::milliseconds(100);
            if (!pause_for(wait)) return;
            continue;
          }
        }
        const auto round = store::index_message_text(db, config.batch_size);
        if (round.indexed > 0) {
          try {
            store::flush_message_text_index(db);
          } catch (const std::exception& e) {
            // Searches stay correct: Postgres merges the pending list itself once it is full.
            if (!flush_warned) spdlog::warn("text indexer: cannot merge the index's pending list: {}", e.what());
            flush_warned = true;
          }
        }
        const auto took =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        if (round.ran) {
          indexed_total.inc(static_cast<double>(round.indexed));
          behind.set(static_cast<double>(std::max<std::int64_t>(0, round.newest_id - round.indexed_through)));
          spdlog::debug("text indexer: {} messages in {} ms, watermark {}, newest {}", round.indexed, took.count(),
                        round.indexed_through, round.newest_id);
        }
        // A full batch means more is waiting: the next round comes after the pause.
        if (round.indexed >= config.batch_size) wait = std::max(config.pause, 3 * took);
        backoff = std::chrono::milliseconds(100);
      } catch (const std::exception& e) {
        spdlog::error("text indexer: {}; retrying in {} ms", e.what(), backoff.count());
        wait = backoff;
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
      if (!pause_for(wait)) return;
    }
  }
};

TextIndexer::TextIndexer(store::Database& db, TextIndexerConfig config)
    : impl_(std::make_unique<Impl>(db, config)) {}

TextIndexer::~TextIndexer() { stop(); }

void TextIndexer::start() {
  if (impl_->config.batch_size == 0 || impl_->thread.joinable()) return;
  impl_->thread = std::thread([this] {
    store::enter_background_thread("text-indexer");
    const store::BackgroundWork background;  // API requests come first for a connection
    impl_->run();
  });
}

void TextIndexer::stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace herald::engine

// The background loop that keeps the message log's text search index (herald.message_text) fed.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "herald/store/db.hpp"

namespace herald::engine {

struct TextIndexerConfig {
  // Messages per round and transaction; 0: this instance does not index (another one does, or
  // text search scans). Instances take turns on one watermark row, so any number may run it.
  std::size_t batch_size = 5000;
  // The least pause after a round that found work. The pause is also at least three times the
  // round's own duration, so the indexer keeps to about a quarter of one connection's time and
  // gives way by itself when Postgres is busy with intake and dispatch: it falls behind in a
  // burst and catches up after (searches scan what it has not reached).
  std::chrono::milliseconds pause{100};
  // How often an idle indexer looks for new messages.
  std::chrono::milliseconds poll_interval{1000};
  // Gives way to a dispatch backlog: while at least this many queued messages are due, no round
  // runs (0: never gives way). Indexing a message costs Postgres about as much CPU as sending
  // it; during an outage storm the two share the machine, and every message indexed then is a
  // message sent later. Searches stay complete meanwhile: they scan what the index has not
  // reached, which costs more the longer the backlog lasts (bench/README.md, storm).
  std::size_t yield_backlog = 5000;
  // The longest the indexer gives way in one stretch: a backlog that lasts (a rate-limited
  // gateway's) cannot keep the index behind for good. After this it runs its paced rounds
  // until the backlog has gone below yield_backlog once.
  std::chrono::milliseconds yield_max{300000};
};

// Whether the indexer gives way to a dispatch backlog now (yield_backlog, yield_max). Apart from
// the loop so its rule can be tested without a thread or a clock.
class BacklogYield {
 public:
  using Clock = std::chrono::steady_clock;
  BacklogYield(std::size_t backlog, std::chrono::milliseconds max) : backlog_(backlog), max_(max) {}
  // The backlog `due` seen at `now` (due counts up to backlog; see store::due_dispatch_backlog).
  bool yields(std::size_t due, Clock::time_point now);
  // Whether the probe is needed at all.
  bool enabled() const { return backlog_ > 0; }

 private:
  std::size_t backlog_;
  std::chrono::milliseconds max_;
  bool backlogged_ = false;
  Clock::time_point since_{};  // the start of this stretch of backlog, when backlogged_
};

class TextIndexer {
 public:
  TextIndexer(store::Database& db, TextIndexerConfig config);
  ~TextIndexer();
  TextIndexer(const TextIndexer&) = delete;
  TextIndexer& operator=(const TextIndexer&) = delete;

  // Starts the loop's thread (nothing when batch_size is 0).
  void start();
  // Lets the round in hand commit and joins the thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::engine

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

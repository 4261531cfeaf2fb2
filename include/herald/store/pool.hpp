// Sharing the connection pool between requests and background work.
#pragma once

#include <cstddef>

#include "herald/store/db.hpp"

namespace herald::store {

// While one lives, connections this thread takes from any pool are background work (the
// engine's loops, the text indexer): they wait while only the connections reserved for the
// foreground are idle, so an API request never queues behind a storm's dispatch and fan-out
// for a connection. Nests.
class BackgroundWork {
 public:
  BackgroundWork();
  ~BackgroundWork();
  BackgroundWork(const BackgroundWork&) = delete;
  BackgroundWork& operator=(const BackgroundWork&) = delete;
  static bool active();
};

// Connections background work leaves to foreground work (HTTP requests): a quarter of the
// pool, at least one when the pool has two or more.
std::size_t reserved_for_foreground(Database& db);
// How many connections a caller on this thread could take from `db` now without waiting.
std::size_t available_connections(Database& db);

}  // namespace herald::store

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

// Names the calling thread (at most 15 characters shown): top -H and /proc/<pid>/task/*/comm
// tell the API's threads from the engine's. Threads it starts inherit the name.
void name_this_thread(const char* name);

// The nice value (0-19) of threads that do background work for the rest of their life; set
// once at start-up (`server.background_nice`), 0 (the default) leaves them as they are.
void set_background_thread_nice(int nice);
// Names the calling thread and raises its nice value to the one set above, for good: the
// kernel then runs a request's thread first when both wait for a core, while an idle API
// leaves background work every core. Threads it starts (a round's send and record threads)
// inherit both. Raising a thread's own nice value needs no privilege; lowering it again would.
void enter_background_thread(const char* name);

// The nice value (0-19) of the Postgres backends of connections that background work takes,
// set once at start-up (`database.background_nice`); requests' connections stay at 0 (the pool
// keeps the two apart). Only where heraldd may renice them: the backends are processes of this
// host (checked by their titles) and heraldd runs as Postgres's user or with CAP_SYS_NICE.
// Otherwise it says so once in the log and leaves them. 0 (the default): never.
void set_background_backend_nice(int nice);

// While one lives, the time this thread spends waiting for pooled connections and holding them
// is added up, with the Postgres backend of the last connection held: where a request's time
// went (`http.server_timing`). Costs two clock reads per connection taken. Does not nest.
struct ConnectionTimes {
  double wait_seconds = 0;  // queued for a connection of the pool
  double held_seconds = 0;  // holding one: round trips to Postgres and the work between them
  int leases = 0;
  int backend_pid = 0;
};
class TimeConnections {
 public:
  TimeConnections();
  ~TimeConnections();
  TimeConnections(const TimeConnections&) = delete;
  TimeConnections& operator=(const TimeConnections&) = delete;
  const ConnectionTimes& times() const { return times_; }

 private:
  ConnectionTimes times_;
};

// Connections background work leaves to foreground work (HTTP requests): a quarter of the
// pool, at least one when the pool has two or more.
std::size_t reserved_for_foreground(Database& db);
// How many connections a caller on this thread could take from `db` now without waiting.
std::size_t available_connections(Database& db);

}  // namespace herald::store

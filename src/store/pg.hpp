// Store-internal: libpqxx access to the pool. Included only by src/store/*.cpp.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <pqxx/pqxx>

#include "herald/store/db.hpp"

namespace herald::store {

// A pooled connection held until destruction; opened (or reopened after a break) on get().
class ConnectionLease {
 public:
  explicit ConnectionLease(Database& db);
  ~ConnectionLease();
  ConnectionLease(const ConnectionLease&) = delete;
  ConnectionLease& operator=(const ConnectionLease&) = delete;
  pqxx::connection& get();
  // Drops a broken connection: the pool opens a fresh one on its next use.
  void discard();

 private:
  Database::Impl& pool_;
  std::unique_ptr<pqxx::connection> conn_;
  std::chrono::steady_clock::time_point taken_at_{};  // set while a TimeConnections lives
};

// Runs fn(pqxx::connection&) on a pooled connection. A broken connection is dropped and
// the call retried once on a fresh one; other errors propagate.
void with_connection(Database& db, const std::function<void(pqxx::connection&)>& fn);

// Runs fn() (which opens, runs and commits a transaction) and runs it again up to `retries`
// times when Postgres chose it as a deadlock victim (40P01) or it could not be serialized
// (40001): the transaction was rolled back whole, so running it again is safe.
template <typename F>
auto retry_rolled_back(F&& fn, int retries = 1) {
  for (int attempt = 0;; ++attempt) {
    try {
      return fn();
    } catch (const pqxx::deadlock_detected&) {
      if (attempt >= retries) throw;
    } catch (const pqxx::serialization_failure&) {
      if (attempt >= retries) throw;
    }
  }
}

// Runs fn(pqxx::work&) in one transaction and commits it.
template <typename F>
auto in_transaction(Database& db, F&& fn) {
  using R = decltype(fn(std::declval<pqxx::work&>()));
  if constexpr (std::is_void_v<R>) {
    with_connection(db, [&](pqxx::connection& c) {
      pqxx::work w(c);
      fn(w);
      w.commit();
    });
  } else {
    std::optional<R> out;
    with_connection(db, [&](pqxx::connection& c) {
      pqxx::work w(c);
      out.emplace(fn(w));
      w.commit();
    });
    return std::move(*out);
  }
}

}  // namespace herald::store

// The intake loop's unit of work: one transaction that claims new events, loads their recipients
// and writes the messages the engine decided on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "herald/domain/error.hpp"
#include "herald/domain/lane.hpp"
#include "herald/domain/types.hpp"
#include "herald/store/db.hpp"

namespace herald::store {

// What one claimed event became: its messages (each carrying its own decision), or why it
// was rejected.
struct EventOutcome {
  std::int64_t seq = 0;
  std::optional<ApiError> rejection;
  std::vector<Message> messages;
  Lane lane = Lane::standard;  // the queue lane of the messages that go out (0017)
};

// Everything the rules need about the recipients of a batch, keyed by account id.
using RecipientContexts = std::map<std::string, RecipientContext>;

// One intake transaction, open for the life of the object. open() claims up to `limit`
// accepted events (FOR UPDATE SKIP LOCKED, oldest first) and loads their recipients; the
// caller decides what each event becomes and hands the outcomes to commit(), which writes the
// messages and their queue rows, marks the events processed or rejected, NOTIFYs
// herald_messages when any message is due, and commits. Destroyed without commit(), it rolls
// back: the events go back to the next claim.
class IntakeBatch {
 public:
  static IntakeBatch open(Database& db, std::size_t limit);
  IntakeBatch(IntakeBatch&&) noexcept;
  IntakeBatch& operator=(IntakeBatch&&) noexcept;
  ~IntakeBatch();

  // The claimed events whose recipients could be read, for the rules.
  const std::vector<Event>& events() const;
  const RecipientContexts& recipients() const;
  // Claimed events already rejected because a stored row of their recipient cannot be read
  // (an unknown channel or topic, say); commit() records them with the rest.
  const std::vector<EventOutcome>& rejected() const;
  // Every event claimed: events() plus rejected().
  std::size_t claimed() const;

  // Writes the outcomes of events() (any order) and the rejected ones, and commits.
  // `now` stamps created_at/processed_at. Returns the number of messages due to be sent.
  std::size_t commit(const std::vector<EventOutcome>& outcomes, TimePoint now);

 private:
  struct Impl;
  explicit IntakeBatch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::store

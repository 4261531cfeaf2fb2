// Choosing a gateway per leased message and turning send results into outbox updates.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "herald/engine/config.hpp"
#include "herald/rules/delivery_policy.hpp"
#include "herald/store/outbox.hpp"

namespace herald::engine {

using SteadyTime = std::chrono::steady_clock::time_point;

// The time paced sends run on: steady time, and waits for a token that a stop cuts short. The
// dispatcher's own reads std::chrono::steady_clock; tests pass one that moves when waited on.
class SendClock {
 public:
  virtual ~SendClock();
  virtual SteadyTime now() const = 0;
  // Returns true once `until` has come, false at once when the clock is (or gets) stopped.
  virtual bool wait_until(SteadyTime until) = 0;
  // For good: every wait, now and later, returns false.
  virtual void stop() = 0;
};

// Owns the per-gateway rate limits and circuit breakers of one instance (a gateway's rate is
// per instance). Several dispatch workers call handle() at once: each gateway's bucket and
// breaker sit behind their own small lock, taken only to pick a gateway, reserve tokens or
// record an answer, never across a send or a wait. A gateway whose sends wait for their tokens
// gets a sender thread of its own, which owns those waits, so that the dispatch workers never
// wait for a rate limit.
class Dispatcher {
 public:
  // `clock`: the time sends are paced on (default: the steady clock).
  Dispatcher(DispatchConfig config, std::map<Channel, std::vector<GatewaySlot>> routes,
             std::shared_ptr<SendClock> clock = nullptr);
  // Ends every gateway's sender after what it holds (see finish()).
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Of the given message ids, those whose lease this instance still holds (renewed) and may
  // be sent, those still held whose address opted out, and whether a message of a lane above
  // the given one waits (store::check_before_send).
  using LeaseCheck = std::function<store::SendCheck(const std::vector<std::int64_t>&, Lane)>;
  // Writes updates of a round still in progress (store::record_dispatch_results).
  using Record = std::function<void(const std::vector<store::MessageUpdate>&)>;

  // Sends what can be sent in this round and returns one update per claimed message, except
  // those whose lease was lost before their send (they belong to whoever holds them now) and
  // those already handed to `record`. Each gateway's share of the batch is sent concurrently
  // with the others', so a slow provider holds up only its own messages.
  //
  // Rate limits are paced: each message takes its gateway's next token, even one still to
  // come, as long as it comes before half the lease is spent (`leased_at`: when the batch was
  // claimed), and is sent when its token comes due. Tokens come 1/rate apart whichever worker
  // takes them, so the sends go out evenly instead of in bursts at round starts; a message
  // whose token would come later goes back to the queue, due a quarter lease before the token
  // it would take (such messages one token apart, across rounds). A round
  // that sends for longer than a second hands what it has sent so far to `record` (when
  // given), so receipts find their sends recorded.
  //
  // Before each chunk but a first one sent right after the claim, and every quarter second
  // while paced sends wait for their tokens, `still_leased` (when given) says which messages
  // may go; a message claimed or checked as opted out is suppressed (`opted_out`), never
  // sent. When the check finds a higher lane than the chunk's due (a verification code behind
  // a storm's outage texts), or the instance stopping, the rest of the batch goes back to the
  // queue unsent, due now, and gives its tokens back. stop() cuts every wait short the same way.
  //
  // With `record` given, a gateway's share that would wait for its tokens is handed to that
  // gateway's sender instead and is not in the returned updates: the sender sends it as above
  // (one lane's share at a time, in the order the tokens were taken; such a share reserves up
  // to a quarter second before half the lease, for a sender a moment late), hands its updates to
  // `record` and then lets go of `hold` (the caller's hold on the batch's leases). The round
  // returns once the rest is sent, so the worker claims again while the tokens come. A share
  // of a higher lane than one a sender holds takes its tokens first: the sender hands the
  // lower lanes' unsent messages back (due now, tokens given back) before the round reserves.
  // Handed-over sends do not yield to a higher lane merely due: the workers, never held by a
  // wait, claim it at once.
  std::vector<store::MessageUpdate> handle(const std::vector<store::ClaimedMessage>& claimed, TimePoint now,
                                           const LeaseCheck& still_leased = {},
                                           std::optional<SteadyTime> leased_at = std::nullopt,
                                           const Record& record = {}, std::shared_ptr<const void> hold = nullptr);

  // Shutdown: waits for tokens end now and for good; rounds and senders hand back what they
  // have not sent.
  void stop();
  // Returns once every sender has sent or handed back what it was handed and its updates are
  // recorded (after stop(): at once, less the records). The senders start again when next
  // handed something.
  void finish();

  // For tests: make backoff deterministic. Set before the dispatcher is shared.
  void set_random(std::function<double()> random01) { random01_ = std::move(random01); }

 private:
  struct Sender;
  struct Route {
    Route(GatewaySlot s, rules::TokenBucket b, rules::CircuitBreaker c);
    ~Route();
    const GatewaySlot slot;
    std::mutex mu;  // guards bucket, breaker and deferred_until
    rules::TokenBucket bucket;
    rules::CircuitBreaker breaker;
    // Messages without a token go back to the queue one token apart from here on (see pick()).
    SteadyTime deferred_until{};
    std::unique_ptr<Sender> sender;  // the thread that waits for this gateway's tokens
  };
  using Chain = std::vector<std::unique_ptr<Route>>;
  struct Pick {
    Route* route = nullptr;
    std::size_t index = 0;
    SteadyTime due{};  // when its token comes
  };
  // A message of a gateway's group and when its token comes.
  struct Paced {
    const store::ClaimedMessage* message = nullptr;
    SteadyTime due{};
  };
  // What one round knows while it sends: times, checks, where updates go.
  struct Round {
    TimePoint now;          // the engine's time at the round's start
    SteadyTime started;     // the send clock's, at the same moment
    SteadyTime leased_at;
    const LeaseCheck* still_leased;
    const Record* record;
    // A sender's: true when a higher lane wants the gateway (hand the rest back).
    const std::function<bool()>* yield = nullptr;
    // A worker's round hands its rest back when a higher lane is due; a sender's does not.
    bool yields_to_lanes_due = true;
  };
  struct Job;

  const Chain* chain(Channel channel) const;
  Pick pick(Channel channel, const std::string& preferred, TimePoint now, SteadyTime at, SteadyTime latest,
            std::chrono::microseconds& wait);
  store::MessageUpdate outcome(const store::ClaimedMessage& c, const gateways::SendResult& r, std::size_t route_index,
                               TimePoint now);
  // Sends one gateway's messages, each when its token comes, in chunks until half the lease is
  // spent; appends one update per message still leased and not yet recorded.
  void send_group(Channel channel, std::size_t route_index, const std::vector<Paced>& members, const Round& round,
                  std::vector<store::MessageUpdate>& updates);
  // A sender's thread: the jobs handed to `route`, one after the other.
  void run_sender(Route& route);
  void hand_over(Route& route, std::unique_ptr<Job> job);
  // Before a round of `claimed` reserves: senders holding lanes below the batch's hand them back.
  void preempt_lower_lanes(const std::vector<store::ClaimedMessage>& claimed);
  void end_preemption();
  double random01();

  const DispatchConfig config_;
  std::map<Channel, Chain> routes_;  // built once; only the routes' buckets and breakers change
  std::shared_ptr<SendClock> clock_;
  std::function<double()> random01_;
  // Held while a round reserves tokens and hands its paced shares over: one round's tokens of
  // a gateway are not interleaved with another's, so a sender taking its jobs in turn sends
  // each when its token comes.
  std::mutex reserving_;
};

}  // namespace herald::engine

// The bound on handlers running at once: slots taken at once while free, then handed to the
// waiting requests in arrival order.
#include <utility>  // before Asio: Boost 1.74 coroutine support needs it with g++ 12

#include "http/handler_slots.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <vector>

namespace asio = boost::asio;
using herald::http::HandlerSlots;

namespace {

asio::awaitable<void> take_then_note(HandlerSlots& slots, std::vector<int>& got, int who) {
  co_await slots.take();
  got.push_back(who);
}

}  // namespace

TEST(HandlerSlots, TryTakeSucceedsUntilEverySlotIsTaken) {
  HandlerSlots slots(2);
  EXPECT_TRUE(slots.try_take());
  EXPECT_TRUE(slots.try_take());
  EXPECT_FALSE(slots.try_take());
  slots.give_back();
  EXPECT_TRUE(slots.try_take());
}

TEST(HandlerSlots, TakeCompletesWhenASlotIsFree) {
  asio::io_context ioc;
  HandlerSlots slots(1);
  std::vector<int> got;
  asio::co_spawn(ioc, take_then_note(slots, got, 1), asio::detached);
  ioc.poll();
  EXPECT_EQ(got, std::vector<int>{1});
  EXPECT_FALSE(slots.try_take());
}

TEST(HandlerSlots, WaitersGetTheSlotOneAtATimeInArrivalOrder) {
  asio::io_context ioc;
  HandlerSlots slots(1);
  ASSERT_TRUE(slots.try_take());
  std::vector<int> got;
  for (int who : {1, 2, 3}) asio::co_spawn(ioc, take_then_note(slots, got, who), asio::detached);
  ioc.poll();
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(slots.waiting(), 3u);

  slots.give_back();
  ioc.poll();
  EXPECT_EQ(got, std::vector<int>{1});
  EXPECT_FALSE(slots.try_take());  // handed over, not freed

  slots.give_back();
  slots.give_back();
  ioc.poll();
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(slots.waiting(), 0u);

  slots.give_back();
  EXPECT_TRUE(slots.try_take());
}

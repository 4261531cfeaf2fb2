// The bound on request handlers running at once (http.worker_threads): a request takes a slot
// before its handler runs and gives it back after; past the bound, requests wait in arrival order.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace herald::http {

class HandlerSlots {
 public:
  explicit HandlerSlots(std::size_t slots) : free_(slots) {}

  // A slot at once if one is free and nobody waits; false otherwise.
  bool try_take() {
    std::lock_guard lock(mutex_);
    if (free_ == 0) return false;
    --free_;
    return true;
  }

  // Completes, on the awaiting coroutine's executor, once a slot is the caller's: at once if one
  // is free, else when the requests that waited before it have had theirs.
  auto take() {
    auto initiate = [this](auto handler) {
      std::unique_lock lock(mutex_);
      if (free_ > 0) {
        --free_;
        lock.unlock();
        boost::asio::post(std::move(handler));
        return;
      }
      // std::function needs a copyable target; the handler is move-only.
      auto shared = std::make_shared<decltype(handler)>(std::move(handler));
      waiting_.emplace_back([shared] { boost::asio::post(std::move(*shared)); });
    };
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void()>(std::move(initiate),
                                                                                   boost::asio::use_awaitable);
  }

  // Hands the slot to the longest waiting request, or frees it.
  void give_back() {
    std::unique_lock lock(mutex_);
    if (waiting_.empty()) {
      ++free_;
      return;
    }
    auto next = std::move(waiting_.front());
    waiting_.pop_front();
    lock.unlock();
    next();
  }

  std::size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::size_t free_;
  std::deque<std::function<void()>> waiting_;
};

}  // namespace herald::http

// A dedicated LISTEN connection that turns NOTIFYs into wake-up calls.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace herald::store {

class Listener {
 public:
  // on_notify(channel) runs on the listener's thread. on_reconnect runs after every
  // (re)connection, so callers can catch up on notifications missed while it was down.
  Listener(std::string url, std::vector<std::string> channels, std::function<void(const std::string&)> on_notify,
           std::function<void()> on_reconnect);
  ~Listener();
  void start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::store

// LISTEN on a dedicated connection; reconnects with backoff and reports each reconnection.
#include "herald/store/listener.hpp"

#include <chrono>
#include <thread>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "herald/store/pool.hpp"

namespace herald::store {

namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel, const std::function<void(const std::string&)>& fn)
      : pqxx::notification_receiver(c, channel), fn_(fn) {}
  void operator()(const std::string&, int) override { fn_(channel()); }

 private:
  const std::function<void(const std::string&)>& fn_;
};

}  // namespace

struct Listener::Impl {
  std::string url;
  std::vector<std::string> channels;
  std::function<void(const std::string&)> on_notify;
  std::function<void()> on_reconnect;
  std::atomic<bool> running{false};
  std::thread thread;

  void run() {
    auto backoff = std::chrono::milliseconds(200);
    while (running) {
      try {
        pqxx::connection conn(url);
        std::vector<std::unique_ptr<Receiver>> receivers;
        for (const auto& ch : channels) receivers.push_back(std::make_unique<Receiver>(conn, ch, on_notify));
        backoff = std::chrono::milliseconds(200);
        on_reconnect();
        while (running) conn.await_notification(0, 250000);
      } catch (const std::exception& e) {
        if (!running) break;
        spdlog::warn("LISTEN connection failed ({}); retrying in {} ms", e.what(), backoff.count());
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
  }
};

Listener::Listener(std::string url, std::vector<std::string> channels, std::function<void(const std::string&)> on_notify,
                   std::function<void()> on_reconnect)
    : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  impl_->channels = std::move(channels);
  impl_->on_notify = std::move(on_notify);
  impl_->on_reconnect = std::move(on_reconnect);
}

Listener::~Listener() { stop(); }

void Listener::start() {
  if (impl_->running.exchange(true)) return;
  impl_->thread = std::thread([this] {
    name_this_thread("listener");
    impl_->run();
  });
}

void Listener::stop() {
  impl_->running = false;
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace herald::store

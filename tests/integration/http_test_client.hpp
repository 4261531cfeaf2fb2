// A raw-socket HTTP/1.1 client for the HTTP integration tests, and a fixture running a real
// heraldd Server on port 0 over a fresh database.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "herald/domain/customer_token.hpp"
#include "herald/domain/types.hpp"
#include "herald/engine/inbound.hpp"
#include "herald/http/server.hpp"
#include "herald/rules/clock.hpp"
#include "herald/rules/decide.hpp"
#include "herald/rules/templates.hpp"
#include "herald/source_dir.hpp"
#include "herald/store/api_keys.hpp"
#include "test_db.hpp"
#include "test_zones.hpp"

namespace herald::test {

struct HttpResponse {
  int status = 0;  // 0: no response (connection closed or timed out first)
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  Json json() const { return Json::parse(body); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// One connected socket; close on destruction.
class TestSocket {
 public:
  explicit TestSocket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~TestSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  TestSocket(const TestSocket&) = delete;
  TestSocket& operator=(const TestSocket&) = delete;

  // Sends everything it can; false when the peer stopped reading (reset/closed).
  bool send_all(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      auto n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Reads whatever arrives within the timeout; "" with closed()=true once the peer closed.
  std::string read_some(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    char buf[65536];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return {};
    }
    return std::string(buf, static_cast<std::size_t>(n));
  }
  bool closed() const { return closed_; }
  // Reads (and drops) what arrives until the peer closes or the deadline passes; closed().
  bool wait_closed_until(std::chrono::steady_clock::time_point deadline) {
    while (!closed_ && std::chrono::steady_clock::now() < deadline) read_some(std::chrono::milliseconds(100));
    return closed_;
  }

  // Reads one response (Content-Length framed, or until close) within the deadline.
  HttpResponse read_response(std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto r = try_parse()) return *r;
      if (closed_) break;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pending_ += read_some(std::max(left, std::chrono::milliseconds(1)));
    }
    if (auto r = try_parse(/*at_eof=*/true)) return *r;
    return {};
  }

 private:
  std::optional<HttpResponse> try_parse(bool at_eof = false) {
    auto head_end = pending_.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::nullopt;
    HttpResponse r;
    std::string head = pending_.substr(0, head_end);
    std::size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    auto sp = status_line.find(' ');
    r.status = std::stoi(status_line.substr(sp + 1, 3));
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      auto line = head.substr(pos, e - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(value.begin());
        r.headers[name] = value;
      }
      pos = e + 2;
    }
    const auto body_start = head_end + 4;
    if (r.status == 100) {  // interim response: drop it and parse the next one
      pending_.erase(0, body_start);
      return try_parse(at_eof);
    }
    if (r.headers.count("content-length")) {
      auto len = std::stoul(r.headers["content-length"]);
      if (pending_.size() < body_start + len) return std::nullopt;
      r.body = pending_.substr(body_start, len);
      pending_.erase(0, body_start + len);
      return r;
    }
    if (!at_eof) return std::nullopt;
    r.body = pending_.substr(body_start);
    pending_.clear();
    return r;
  }

  int fd_ = -1;
  bool closed_ = false;
  std::string pending_;
};

struct HttpRequestSpec {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::map<std::string, std::string> headers;
};

inline std::string serialize(const HttpRequestSpec& spec, bool keep_alive) {
  std::string out = spec.method + " " + spec.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : spec.headers) out += k + ": " + v + "\r\n";
  if (!spec.headers.count("Content-Length")) out += "Content-Length: " + std::to_string(spec.body.size()) + "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  return out + "\r\n" + spec.body;
}

// One request on its own connection, the way the harness does it: send everything, then read.
inline HttpResponse http_exchange(std::uint16_t port, const HttpRequestSpec& spec) {
  TestSocket s(port);
  s.send_all(serialize(spec, false));
  s.shutdown_write();
  return s.read_response();
}

// Helpers for the common JSON calls.
inline HttpResponse http_call(std::uint16_t port, std::string method, std::string target, const std::string& token = {},
                              std::optional<Json> body = std::nullopt,
                              std::string content_type = "application/json") {
  HttpRequestSpec spec;
  spec.method = std::move(method);
  spec.target = std::move(target);
  if (!token.empty()) spec.headers["Authorization"] = "Bearer " + token;
  if (body) {
    spec.body = body->dump();
    spec.headers["Content-Type"] = std::move(content_type);
  }
  return http_exchange(port, spec);
}

// Event types the tests post, as built in (with their declared data fields); the rest of
// RulesConfig keeps its defaults.
inline rules::RulesConfig test_rules() {
  rules::RulesConfig r;
  const rules::RulesConfig built_in = rules::default_rules_config();
  for (const char* t : {"bill.ready", "bill.due_soon", "payment.received"}) r.types[t] = built_in.types.at(t);
  r.default_preferences.topics = {{Topic::billing, {Channel::sms, Channel::email}},
                                  {Topic::outage, {Channel::sms}},
                                  {Topic::other, {Channel::email}}};
  return r;
}

// Wall-clock time moved forward by what a test asks (a code that expires, a rate-limit window).
class ShiftedClock final : public rules::Clock {
 public:
  TimePoint now() const override { return system_.now() + std::chrono::microseconds(shift_us_.load()); }
  void advance(std::chrono::microseconds d) { shift_us_.fetch_add(d.count()); }

 private:
  rules::SystemClock system_;
  std::atomic<std::int64_t> shift_us_{0};
};

// A real Server over a fresh database, serving from its own thread on an ephemeral port.
class HttpServerFixture : public ::testing::Test {
 protected:
  static constexpr const char* kSecret = "test-secret-0123456789abcdef";
  static constexpr const char* kTwilioToken = "twilio-token-12345";
  static constexpr const char* kKannelToken = "kannel-token-0123456789";
  static constexpr const char* kPublicBase = "https://herald.example.com";

  void SetUp() override { start(); }
  void TearDown() override { stop_server(); }

  // Tests may change config_ before calling restart().
  void start() {
    db_ = std::make_unique<TestDb>(4);
    rules_ = test_rules();
    config_.address = "127.0.0.1";
    config_.port = 0;
    start_server();
    admin_key_ = store::create_api_key(db_->db(), "admin", "test-admin");
    cis_key_ = store::create_api_key(db_->db(), "cis", "test-cis");
  }
  void start_server() {
    server_ = std::make_unique<http::Server>(
        config_, http::Services{db_->db(), rules_, public_urls_, secret_, {kTwilioToken}, [this] { return ready_.load(); }, clock_,
                                &templates_, {kKannelToken}, inbound_});
    port_ = server_->listen();
    thread_ = std::thread([this] { server_->run(); });
  }
  void stop_server(std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) {
    if (!server_) return;
    server_->stop(grace);
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }
  void restart() {
    stop_server();
    start_server();
  }

  std::string customer_token(const std::string& customer_id) {
    return issue_customer_token(kSecret, customer_id, clock_.now() + std::chrono::hours(1));
  }

  // The account lives where it is daytime now, so anything the test sends is not held for quiet hours.
  static Json customer_body(const std::string& id, const std::string& phone = "+12175550101") {
    return Json{{"name", "Customer " + id},
                {"language", "en"},
                {"accounts",
                 {{{"account_id", "A-" + id},
                   {"premise_id", "P-" + id},
                   {"service_address", {{"line1", "12 Main St"}, {"city", "Springfield"}, {"state", "IL"}, {"zip", "62701"}}},
                   {"timezone", daytime_zone()},
                   {"feeder", "F-12"},
                   {"segments", Json::array({"low_income"})}}}},
                {"contacts",
                 {{{"channel", "sms"}, {"address", phone}},
                  {{"channel", "email"}, {"address", id + "@example.com"}},
                  {{"channel", "voice"}, {"address", phone}}}}};
  }

  void put_customer(const std::string& id, const std::string& phone = "+12175550101") {
    auto r = http_call(port_, "PUT", "/v1/customers/" + id, cis_key_, customer_body(id, phone));
    ASSERT_EQ(r.status, 200) << r.body;
  }

  HttpResponse call(std::string method, std::string target, const std::string& token = {},
                    std::optional<Json> body = std::nullopt) {
    return http_call(port_, std::move(method), std::move(target), token, std::move(body));
  }

  std::unique_ptr<TestDb> db_;
  rules::RulesConfig rules_;
  ShiftedClock clock_;
  rules::TemplateStore templates_{std::string(HERALD_SOURCE_DIR) + "/config/templates"};
  PublicUrls public_urls_{kPublicBase};
  TokenSecret secret_{kSecret};
  std::atomic<bool> ready_{true};
  engine::InboundPipeline* inbound_ = nullptr;  // set before start_server() to take inbound webhooks
  http::ServerConfig config_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::string admin_key_, cis_key_;
};

}  // namespace herald::test

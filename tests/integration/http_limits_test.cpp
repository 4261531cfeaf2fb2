// Over real HTTP: body and header limits, content types, JSON nesting, keep-alive, timeouts
// and graceful stop.
#include <pqxx/pqxx>

#include "http_test_client.hpp"

namespace herald::test {
namespace {

class HttpLimits : public HttpServerFixture {};

TEST_F(HttpLimits, TwoMebibyteBodyIsPayloadTooLargeAndTheClientReadsTheAnswer) {
  HttpRequestSpec spec;
  spec.method = "POST";
  spec.target = "/v1/events";
  spec.headers["Authorization"] = "Bearer " + cis_key_;
  spec.headers["Content-Type"] = "application/json";
  spec.body = "{\"pad\":\"" + std::string(2u << 20, 'x') + "\"}";
  auto r = http_exchange(port_, spec);  // sends the whole body, then reads
  ASSERT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"]["code"], "payload_too_large");
}

TEST_F(HttpLimits, ChunkedBodyOverTheLimitIsPayloadTooLarge) {
  TestSocket s(port_);
  std::string head = "POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + cis_key_ +
                     "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string chunk(256 * 1024, 'x');
  std::string data = head;
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  for (int i = 0; i < 6; ++i) data += size + chunk + "\r\n";
  data += "0\r\n\r\n";
  s.send_all(data);
  s.shutdown_write();
  EXPECT_EQ(s.read_response().status, 413);
}

TEST_F(HttpLimits, NonJsonContentTypeIsUnsupportedMediaType) {
  auto r = http_call(port_, "POST", "/v1/events", cis_key_, Json::object(), "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.json()["error"]["code"], "unsupported_media_type");
}

TEST_F(HttpLimits, JsonNestedBeyondTheLimitIsBadRequest) {
  HttpRequestSpec spec;
  spec.method = "POST";
  spec.target = "/v1/events";
  spec.headers["Authorization"] = "Bearer " + cis_key_;
  spec.headers["Content-Type"] = "application/json";
  spec.body = std::string(100, '[') + std::string(100, ']');
  auto r = http_exchange(port_, spec);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["error"]["code"], "json_too_deep");
}

TEST_F(HttpLimits, OversizedHeadersAreRefused) {
  HttpRequestSpec spec;
  spec.target = "/livez";
  spec.headers["X-Filler"] = std::string(10 * 1024, 'a');
  auto r = http_exchange(port_, spec);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["error"]["code"], "headers_too_large");
}

TEST_F(HttpLimits, KeepAliveServesSeveralRequestsOnOneConnection) {
  TestSocket s(port_);
  HttpRequestSpec spec;
  spec.target = "/livez";
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.send_all(serialize(spec, true)));
    auto r = s.read_response();
    ASSERT_EQ(r.status, 200) << "request " << i;
  }
}

TEST_F(HttpLimits, PipelinedRequestsAreAnsweredInOrder) {
  TestSocket s(port_);
  HttpRequestSpec live, missing;
  live.target = "/livez";
  missing.target = "/nope";
  ASSERT_TRUE(s.send_all(serialize(live, true) + serialize(missing, true)));
  EXPECT_EQ(s.read_response().status, 200);
  EXPECT_EQ(s.read_response().status, 404);
}

TEST_F(HttpLimits, MalformedRequestLineIsBadRequest) {
  TestSocket s(port_);
  s.send_all("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(s.read_response().status, 400);
}

TEST_F(HttpLimits, ExpectContinueGetsInterimResponseBeforeTheBody) {
  TestSocket s(port_);
  std::string body = Json{{"event_id", "e1"}}.dump();
  s.send_all("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + cis_key_ +
             "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n");
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < deadline && !s.closed())
    got += s.read_some(std::chrono::milliseconds(200));
  EXPECT_EQ(got.rfind("HTTP/1.1 100", 0), 0u) << got;
  s.send_all(body);
  EXPECT_EQ(s.read_response().status, 422);  // valid JSON, incomplete event
}

class HttpTimeouts : public HttpServerFixture {
 protected:
  HttpTimeouts() { config_.header_timeout = std::chrono::seconds(1); }
};

TEST_F(HttpTimeouts, SlowHeaderIsCutAtTheHeaderTimeout) {
  TestSocket s(port_);
  s.send_all("GET /livez HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(s.wait_closed_until(start + std::chrono::seconds(10)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpLimits, StopClosesIdleConnectionsAndRefusesNewOnes) {
  TestSocket idle(port_);
  HttpRequestSpec spec;
  spec.target = "/livez";
  ASSERT_TRUE(idle.send_all(serialize(spec, true)));
  ASSERT_EQ(idle.read_response().status, 200);
  const auto start = std::chrono::steady_clock::now();
  stop_server(std::chrono::milliseconds(5000));
  // The idle keep-alive connection did not hold the stop for the whole grace period.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(idle.wait_closed_until(start + std::chrono::seconds(5)));
  EXPECT_THROW(TestSocket{port_}, std::runtime_error);
}

// Holds an exclusive lock on the customers table so a PUT /v1/customers is provably in flight
// (waiting on the lock inside its handler) when the server is told to stop.
class HttpDrain : public HttpServerFixture {
 protected:
  void hold_customers_lock() {
    lock_conn_ = std::make_unique<pqxx::connection>(db_->url());
    lock_tx_ = std::make_unique<pqxx::work>(*lock_conn_);
    lock_tx_->exec("LOCK TABLE herald.customers IN ACCESS EXCLUSIVE MODE");
  }
  void release_lock() {
    lock_tx_.reset();  // aborts, releasing the lock
    lock_conn_.reset();
  }
  bool wait_for_blocked_query() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (db_->query_value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND wait_event_type = 'Lock'") != "0")
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  bool connection_refused_soon() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        TestSocket probe(port_);
      } catch (const std::runtime_error&) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Starts a PUT /v1/customers/cz into `r` on a thread of its own, and returns once it waits on
  // the lock inside its handler (false: it never did).
  bool start_put_waiting_on_the_lock(HttpResponse& r) {
    hold_customers_lock();
    client_ = std::thread([this, &r] { r = call("PUT", "/v1/customers/cz", cis_key_, customer_body("cz")); });
    return wait_for_blocked_query();
  }
  // Releases the lock and waits for the PUT's answer.
  void finish_put() {
    release_lock();
    if (client_.joinable()) client_.join();
  }
  void TearDown() override {
    finish_put();
    HttpServerFixture::TearDown();
  }
  std::unique_ptr<pqxx::connection> lock_conn_;
  std::unique_ptr<pqxx::work> lock_tx_;
  std::thread client_;
};

TEST_F(HttpDrain, InFlightRequestFinishesWithinGraceAndClosesTheConnection) {
  HttpResponse r;
  ASSERT_TRUE(start_put_waiting_on_the_lock(r)) << "the PUT never waited on the lock";
  server_->stop(std::chrono::milliseconds(10000));
  EXPECT_TRUE(connection_refused_soon());  // stopped accepting while the request is in flight
  finish_put();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("connection"), "close");
  stop_server();
}

TEST_F(HttpDrain, RequestStillBusyAtTheDeadlineIsCut) {
  HttpResponse r;
  ASSERT_TRUE(start_put_waiting_on_the_lock(r)) << "the PUT never waited on the lock";
  server_->stop(std::chrono::milliseconds(200));
  client_.join();  // returns once the server cuts the connection
  EXPECT_EQ(r.status, 0);
  finish_put();
  stop_server();
}

// A handler runs on the thread that read its request; the others go on serving the rest.
TEST_F(HttpDrain, AHandlerWaitingOnTheDatabaseHoldsUpNoOtherConnection) {
  HttpResponse r;
  ASSERT_TRUE(start_put_waiting_on_the_lock(r)) << "the PUT never waited on the lock";
  EXPECT_EQ(http_call(port_, "GET", "/livez").status, 200);  // while the PUT still waits
  finish_put();
  EXPECT_EQ(r.status, 200) << r.body;
}

// One handler at a time (http.worker_threads = 1): while it is busy, further requests wait for
// it, and the server still reads, refuses what it will not handle and enforces its timeouts.
class HttpOneHandler : public HttpDrain {
 protected:
  HttpOneHandler() {
    config_.worker_threads = 1;
    config_.header_timeout = std::chrono::seconds(1);
  }
};

TEST_F(HttpOneHandler, RequestsWaitForTheBusyHandlerWhileReadingAndTimeoutsGoOn) {
  HttpResponse put;
  ASSERT_TRUE(start_put_waiting_on_the_lock(put)) << "the PUT never waited on the lock";
  TestSocket malformed(port_);
  malformed.send_all("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(malformed.read_response().status, 400);

  TestSocket slow(port_);
  slow.send_all("GET /livez HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  EXPECT_TRUE(slow.wait_closed_until(std::chrono::steady_clock::now() + std::chrono::seconds(10)));

  TestSocket waiting(port_);
  HttpRequestSpec live;
  live.target = "/livez";
  ASSERT_TRUE(waiting.send_all(serialize(live, true)));
  finish_put();
  EXPECT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(waiting.read_response().status, 200);
}

}  // namespace
}  // namespace herald::test

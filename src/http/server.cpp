// The Beast server: coroutines (accept loop, one loop per connection with read timeouts and size
// limits) on an io_context that http.worker_threads + 1 threads run; a connection's handler runs
// on the thread that read its request, at most http.worker_threads at once; graceful stop.
#include <utility>  // before Asio: Boost 1.74 coroutine support needs it with g++ 12

#include "herald/http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "herald/domain/json_io.hpp"
#include "herald/http/api.hpp"
#include "herald/store/pool.hpp"
#include "handler_slots.hpp"

namespace herald::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t kHeaderLimit = 8 * 1024;
// PUT /v1/outages/{id} may carry an area of 100,000 premise ids and more (about 1.5 MB).
constexpr std::size_t kOutageBodyLimit = 16 << 20;
// After refusing a body we still read (and drop) what the client sends, so it sees our answer
// instead of a connection reset; but not forever.
constexpr std::size_t kDrainLimit = 64u << 20;
constexpr auto kDrainTimeout = std::chrono::seconds(5);

bhttp::response<bhttp::string_body> to_beast(Response&& r, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "heraldd");
  for (auto& [name, value] : r.headers) res.set(name, value);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

std::string milliseconds(double seconds) { return fmt::format("{:.3f}", seconds * 1e3); }

// https://www.w3.org/TR/server-timing/: durations in milliseconds.
std::string server_timing(double queued, double handled, const store::ConnectionTimes& t) {
  return "queue;dur=" + milliseconds(queued) + ", pool;dur=" + milliseconds(t.wait_seconds) + ", db;dur=" +
         milliseconds(t.held_seconds) + ";desc=\"backend " + std::to_string(t.backend_pid) + ", " +
         std::to_string(t.leases) + " connection(s)\", handler;dur=" + milliseconds(handled);
}

Request from_beast(bhttp::request<bhttp::string_body>&& req, const std::string& remote) {
  Request out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  for (const auto& field : req) out.set_header(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(req.body());
  out.remote = remote;
  return out;
}

}  // namespace

struct Server::Impl {
  // One per connection. Its stream's executor is the connection's strand: the coroutine, the
  // stream's timeouts and what stop() does to the connection never run at the same time.
  struct Session {
    explicit Session(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    bool idle = true;  // waiting for the next request: safe to close on stop (on the strand)
  };

  Impl(ServerConfig c, Services s)
      : config(std::move(c)),
        services(std::move(s)),
        api(config, services),
        threads(std::max<std::size_t>(1, config.worker_threads)),
        slots(threads) {}

  ServerConfig config;
  Services services;
  Api api;
  // A request's handler (it blocks on the database) runs on the thread that read the request and
  // the response is written from there: one thread is woken on the request's way (besides its
  // database round trips) instead of the io thread, a pool worker and the io thread again, each
  // a wait for a core on a busy machine. One thread more than handlers may run, so reading,
  // timeouts and refusals go on while every handler slot is busy.
  std::size_t threads;
  HandlerSlots slots;
  std::mutex mutex;
  std::set<std::shared_ptr<Session>> sessions;  // guarded by mutex
  std::atomic<bool> stopping{false};
  // After what the connections' coroutines refer to: destroyed first.
  asio::io_context ioc{static_cast<int>(threads + 1)};
  asio::strand<asio::io_context::executor_type> control{asio::make_strand(ioc)};  // accept, stop
  tcp::acceptor acceptor{control};
  asio::steady_timer drain_timer{control};

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(std::shared_ptr<Session> s, std::string remote);
  asio::awaitable<void> refuse(Session& s, unsigned version, Response r);
  Response handle(const Request& request, std::chrono::steady_clock::time_point parsed_at);
  void begin_stop(std::chrono::milliseconds grace);
  void close_all();
  std::vector<std::shared_ptr<Session>> open_sessions() {
    std::lock_guard lock(mutex);
    return {sessions.begin(), sessions.end()};
  }
};

Server::Server(ServerConfig config, Services services)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(services))) {}

Server::~Server() = default;

std::uint16_t Server::listen() {
  auto& im = *impl_;
  tcp::resolver resolver(im.ioc);
  auto results = resolver.resolve(im.config.address, std::to_string(im.config.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service);
  if (results.empty()) throw std::runtime_error("cannot resolve HTTP address " + im.config.address);
  tcp::endpoint endpoint = results.begin()->endpoint();
  im.acceptor.open(endpoint.protocol());
  im.acceptor.set_option(asio::socket_base::reuse_address(true));
  im.acceptor.bind(endpoint);
  im.acceptor.listen(asio::socket_base::max_listen_connections);
  auto port = im.acceptor.local_endpoint().port();
  spdlog::info("http: listening on {}:{}", im.config.address, port);
  return port;
}

void Server::run() {
  auto& im = *impl_;
  asio::co_spawn(im.control, im.accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("http: accept loop ended: {}", ex.what());
    }
  });
  // The calling thread is one of them; all return once stop() has drained.
  std::vector<std::thread> others;
  struct Join {
    asio::io_context& ioc;
    std::vector<std::thread>& threads;
    ~Join() {
      if (std::uncaught_exceptions() > 0) ioc.stop();
      for (auto& t : threads) t.join();
    }
  } join{im.ioc, others};
  for (std::size_t i = 0; i < im.threads; ++i)
    others.emplace_back([&im] {
      store::name_this_thread("http-worker");
      im.ioc.run();
    });
  im.ioc.run();
}

void Server::stop(std::chrono::milliseconds grace) {
  asio::post(impl_->control, [im = impl_.get(), grace] { im->begin_stop(grace); });
}

void Server::start_closed() { impl_->api.set_starting(true); }

void Server::open() { impl_->api.set_starting(false); }

void Server::set_draining() { impl_->api.set_draining(true); }

// On the control strand.
void Server::Impl::begin_stop(std::chrono::milliseconds grace) {
  if (stopping.exchange(true)) return;
  api.set_draining(true);
  error_code ec;
  acceptor.close(ec);
  // Idle keep-alive connections have nothing in flight: close them now. Busy ones finish
  // their request (answered with Connection: close) or are cut at the deadline. A connection
  // busy now sees `stopping` before it waits for another request.
  const auto open = open_sessions();
  for (const auto& s : open)
    asio::post(s->stream.get_executor(), [s] {
      if (s->idle) s->stream.cancel();
    });
  // A connection that ends from now on and leaves none cancels the timer (after this, on this strand).
  if (open.empty()) return;
  drain_timer.expires_after(grace);
  drain_timer.async_wait([this](error_code wait_ec) {
    if (wait_ec) return;
    if (const auto left = open_sessions(); !left.empty())
      spdlog::warn("http: closing {} connection(s) still busy at the stop deadline", left.size());
    close_all();
  });
}

void Server::Impl::close_all() {
  for (const auto& s : open_sessions())
    asio::post(s->stream.get_executor(), [s] {
      error_code ec;
      s->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      s->stream.cancel();
    });
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    // Each connection on a strand of its own: its handler may block one thread while the
    // others serve the rest.
    tcp::socket socket(asio::make_strand(ioc));
    error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (stopping || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors and the like: back off briefly rather than spin.
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(control, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    std::string remote;
    if (auto ep = socket.remote_endpoint(ec); !ec) remote = ep.address().to_string();
    auto s = std::make_shared<Session>(std::move(socket));
    {
      std::lock_guard lock(mutex);
      sessions.insert(s);
    }
    auto executor = s->stream.get_executor();
    asio::co_spawn(executor, session(std::move(s), std::move(remote)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::warn("http: session ended with an error: {}", ex.what());
      } catch (...) {
      }
    });
  }
}

// The caller has taken a slot; it is free again once the handler is done (or has thrown).
Response Server::Impl::handle(const Request& request, std::chrono::steady_clock::time_point parsed_at) {
  struct GiveBack {
    HandlerSlots& slots;
    ~GiveBack() { slots.give_back(); }
  } give_back{slots};
  if (!config.server_timing) return api.handle(request);
  const auto started = std::chrono::steady_clock::now();
  const store::TimeConnections timed;
  auto response = api.handle(request);
  const auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  response.set_header("Server-Timing", server_timing(seconds(parsed_at, started),
                                                      seconds(started, std::chrono::steady_clock::now()),
                                                      timed.times()));
  return response;
}

// Answers a request we will not read (too large, malformed), then drains what the client is
// still sending so it reads the answer rather than a reset, and closes.
asio::awaitable<void> Server::Impl::refuse(Session& s, unsigned version, Response r) {
  error_code ec;
  auto res = to_beast(std::move(r), version, false);
  s.stream.expires_after(config.body_timeout);
  co_await bhttp::async_write(s.stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  s.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::vector<char> scratch(64 * 1024);
  std::size_t drained = 0;
  s.stream.expires_after(kDrainTimeout);
  while (drained < kDrainLimit) {
    auto n = co_await s.stream.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    drained += n;
  }
}

// g++ 12 at -O2 inlines Asio 1.74's awaitable frame allocation into this coroutine and then
// reports the frame's operator delete as mismatched with the ::operator new inside Asio's
// recycling allocator (-Wmismatched-new-delete). Both are Asio's own matched pair, so the
// warning is a false positive; it is silenced for this one function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> Server::Impl::session(std::shared_ptr<Session> owned, std::string remote) {
  Session& s = *owned;
  struct Unregister {
    Impl* im;
    std::shared_ptr<Session> s;
    ~Unregister() {
      bool last;
      {
        std::lock_guard lock(im->mutex);
        im->sessions.erase(s);
        last = im->stopping && im->sessions.empty();
      }
      if (last) asio::post(im->control, [im = im] { im->drain_timer.cancel(); });
    }
  } unregister{this, std::move(owned)};
  // Responses are written without waiting while the socket takes them (the common case);
  // only the rest of one it cannot take at once is left to an asynchronous write.
  s.stream.socket().non_blocking(true);

  beast::flat_buffer buffer;
  bool first = true;
  error_code ec;
  for (;;) {
    if (stopping) break;
    // Between requests: wait for the first byte with the idle timeout (the header timeout
    // for a new connection), then give the whole header the header timeout.
    if (buffer.size() == 0) {
      s.idle = true;
      s.stream.expires_after(first ? config.header_timeout : config.idle_timeout);
      auto n = co_await s.stream.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      s.idle = false;
      if (ec) break;
      buffer.commit(n);
    }
    s.idle = false;
    first = false;

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    // The larger limit while the header is read; the route's own once its target is known.
    parser.body_limit(std::max<std::size_t>(config.body_limit, kOutageBodyLimit));
    // A header already read whole is parsed here: Beast's read would finish it by posting its
    // completion, which wakes another thread for nothing.
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == bhttp::error::need_more) ec = {};
    if (!ec && !parser.is_header_done()) {
      s.stream.expires_after(config.header_timeout);
      co_await bhttp::async_read_header(s.stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    std::size_t body_limit = config.body_limit;
    if (!ec && parser.get().method() == bhttp::verb::put && parser.get().target().starts_with("/v1/outages/"))
      body_limit = std::max<std::size_t>(config.body_limit, kOutageBodyLimit);
    if (!ec) parser.body_limit(body_limit);
    const auto too_large = [body_limit] {
      return error_response(ErrorKind::too_large, "payload_too_large",
                            "request body exceeds " + std::to_string(body_limit) + " bytes");
    };
    // Beast compares Content-Length with the body limit while parsing the header.
    // Refusals are named before co_await, like the handler below (g++ 12 and temporaries).
    if (ec == bhttp::error::body_limit) {
      auto refusal = too_large();
      co_await refuse(s, parser.get().version(), std::move(refusal));
      break;
    }
    if (ec == bhttp::error::header_limit) {
      auto refusal = error_response(ErrorKind::malformed, "headers_too_large", "request headers exceed 8 KiB");
      co_await refuse(s, 11, std::move(refusal));
      break;
    }
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      break;
    }
    if (ec) {
      auto refusal = error_response(ErrorKind::malformed, "bad_request", "malformed HTTP request");
      co_await refuse(s, 11, std::move(refusal));
      break;
    }
    const auto version = parser.get().version();
    if (auto len = parser.content_length(); len && *len > body_limit) {
      auto refusal = too_large();
      co_await refuse(s, version, std::move(refusal));
      break;
    }
    if (!parser.is_done()) {
      if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
        s.stream.expires_after(config.body_timeout);
        co_await bhttp::async_write(s.stream, cont, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      }
      s.stream.expires_after(config.body_timeout);
      co_await bhttp::async_read(s.stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == bhttp::error::body_limit) {
        auto refusal = too_large();
        co_await refuse(s, version, std::move(refusal));
        break;
      }
      if (ec) break;  // timeout or the client went away: nobody to answer
    }

    const bool client_keep_alive = parser.get().keep_alive();
    const auto request = from_beast(parser.release(), remote);
    const auto parsed_at = std::chrono::steady_clock::now();
    // Handlers block on the database: this thread runs it once a slot is free (the other
    // threads go on serving the rest); the response is written from here too.
    if (!slots.try_take()) co_await slots.take();
    Response response = handle(request, parsed_at);

    const bool keep_alive = client_keep_alive && !response.close && !stopping;
    auto res = to_beast(std::move(response), version, keep_alive);
    bhttp::response_serializer<bhttp::string_body> serializer{res};
    do {
      bhttp::write_some(s.stream.socket(), serializer, ec);
    } while (!ec && !serializer.is_done());
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      s.stream.expires_after(config.body_timeout);
      co_await bhttp::async_write(s.stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec || !keep_alive) break;
  }
  s.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}
#pragma GCC diagnostic pop

}  // namespace herald::http

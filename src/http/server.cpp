// The Beast server: one io_context thread of coroutines (accept loop, one loop per connection
// with read timeouts and size limits), handlers on a worker pool, graceful stop.
#include <utility>  // before Asio: Boost 1.74 coroutine support needs it with g++ 12

#include "herald/http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <set>

#include <spdlog/spdlog.h>

#include "herald/domain/json_io.hpp"
#include "herald/http/api.hpp"
#include "herald/store/pool.hpp"

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

// Runs blocking work on the pool and completes on `ex`, the awaiting coroutine's executor
// (co_await asio::post(pool) would resume the coroutine on a pool thread). Not itself a
// coroutine: g++ 12 mishandles lambdas moved into coroutine parameters.
template <typename F>
auto run_blocking(asio::thread_pool& pool, asio::any_io_executor ex, F fn) {
  using R = std::invoke_result_t<F&>;
  auto initiate = [&pool, ex, fn = std::move(fn)](auto handler) mutable {
    // Keeps the io_context running while the work is on the pool.
    auto tracked = asio::prefer(ex, asio::execution::outstanding_work.tracked);
    asio::post(pool, [handler = std::move(handler), tracked, fn = std::move(fn)]() mutable {
      thread_local const bool named = (store::name_this_thread("http-worker"), true);
      (void)named;
      std::exception_ptr error;
      R result{};
      try {
        result = fn();
      } catch (...) {
        error = std::current_exception();
      }
      asio::post(tracked, [handler = std::move(handler), error, result = std::move(result)]() mutable {
        handler(error, std::move(result));
      });
    });
  };
  return asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr, R)>(std::move(initiate),
                                                                                       asio::use_awaitable);
}

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
  struct Session {
    beast::tcp_stream stream;
    bool idle = true;  // waiting for the next request: safe to close on stop
  };

  Impl(ServerConfig c, Services s)
      : config(std::move(c)), services(std::move(s)), api(config, services), pool(std::max<std::size_t>(1, config.worker_threads)) {}

  ServerConfig config;
  Services services;
  Api api;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer drain_timer{ioc};
  std::set<Session*> sessions;  // io thread only
  bool stopping = false;        // io thread only
  asio::thread_pool pool;       // last: joined first on destruction

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(tcp::socket socket);
  asio::awaitable<void> refuse(Session& s, unsigned version, Response r);
  void begin_stop(std::chrono::milliseconds grace);
  void close_all();
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
  asio::co_spawn(im.ioc, im.accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("http: accept loop ended: {}", ex.what());
    }
  });
  im.ioc.run();
}

void Server::stop(std::chrono::milliseconds grace) {
  asio::post(impl_->ioc, [im = impl_.get(), grace] { im->begin_stop(grace); });
}

void Server::start_closed() { impl_->api.set_starting(true); }

void Server::open() { impl_->api.set_starting(false); }

void Server::set_draining() { impl_->api.set_draining(true); }

void Server::Impl::begin_stop(std::chrono::milliseconds grace) {
  if (stopping) return;
  stopping = true;
  api.set_draining(true);
  error_code ec;
  acceptor.close(ec);
  // Idle keep-alive connections have nothing in flight: close them now. Busy ones finish
  // their request (answered with Connection: close) or are cut at the deadline.
  for (auto* s : sessions)
    if (s->idle) s->stream.cancel();
  if (sessions.empty()) return;
  drain_timer.expires_after(grace);
  drain_timer.async_wait([this](error_code wait_ec) {
    if (wait_ec) return;
    if (!sessions.empty()) spdlog::warn("http: closing {} connection(s) still busy at the stop deadline", sessions.size());
    close_all();
  });
}

void Server::Impl::close_all() {
  for (auto* s : sessions) {
    error_code ec;
    s->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    s->stream.cancel();
  }
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    tcp::socket socket(ioc);
    error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (stopping || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors and the like: back off briefly rather than spin.
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    asio::co_spawn(ioc, session(std::move(socket)), [](std::exception_ptr e) {
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
asio::awaitable<void> Server::Impl::session(tcp::socket socket) {
  std::string remote;
  {
    error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
  }
  const auto executor = co_await asio::this_coro::executor;
  Session s{beast::tcp_stream(std::move(socket))};
  sessions.insert(&s);
  struct Unregister {
    Impl* im;
    Session* s;
    ~Unregister() {
      im->sessions.erase(s);
      if (im->stopping && im->sessions.empty()) im->drain_timer.cancel();
    }
  } unregister{this, &s};

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
    s.stream.expires_after(config.header_timeout);
    co_await bhttp::async_read_header(s.stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
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
    // Handlers block on the database: run them on the pool, resume here. `request` stays in
    // this frame until the handler is done; the lambda is named, not a temporary inside
    // co_await (g++ 12 destroys such temporaries twice).
    const auto parsed_at = std::chrono::steady_clock::now();
    auto handle = [this, &request, parsed_at] {
      if (!config.server_timing) return api.handle(request);
      const auto started = std::chrono::steady_clock::now();
      const store::TimeConnections timed;
      auto response = api.handle(request);
      const auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
      response.set_header("Server-Timing", server_timing(seconds(parsed_at, started),
                                                          seconds(started, std::chrono::steady_clock::now()),
                                                          timed.times()));
      return response;
    };
    Response response = co_await run_blocking(pool, executor, std::move(handle));

    const bool keep_alive = client_keep_alive && !response.close && !stopping;
    auto res = to_beast(std::move(response), version, keep_alive);
    s.stream.expires_after(config.body_timeout);
    co_await bhttp::async_write(s.stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  s.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}
#pragma GCC diagnostic pop

}  // namespace herald::http

#include "tradingbot/net/https_pool.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/x509.h>

#include "tradingbot/net/tls_socket.hpp"

namespace tb::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using Tcp = asio::ip::tcp;

namespace {

// boost::system::error_category keeps a protected non-virtual destructor on purpose (categories
// are static singletons, never deleted through a base pointer); -Wnon-virtual-dtor cannot know.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class PoolCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "tb.https_pool"; }
  std::string message(int ev) const override {
    switch (static_cast<PoolError>(ev)) {
      case PoolError::queue_full: return "request queue full";
      case PoolError::timeout: return "request deadline passed";
      case PoolError::shut_down: return "connection pool shut down";
      case PoolError::connection_closed: return "server closed the connection before answering";
    }
    return "unknown pool error";
  }
};
#pragma GCC diagnostic pop

std::chrono::nanoseconds to_duration(Nanos ns) { return std::chrono::nanoseconds(ns); }

// What a server's close of an idle keep-alive connection looks like on our next exchange.
bool closed_by_peer(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::error::not_connected;
}

std::string host_key(const std::string& host, std::uint16_t port) { return host + ":" + std::to_string(port); }

}  // namespace

const boost::system::error_category& pool_category() noexcept {
  static const PoolCategory category;
  return category;
}

boost::system::error_code make_error_code(PoolError e) noexcept {
  return {static_cast<int>(e), pool_category()};
}

struct HttpsConnectionPool::Pending {
  explicit Pending(asio::io_context& ioc) : timer(ioc) {}
  http::request<http::string_body> message;
  Handler handler;
  asio::steady_timer timer;
  HostState* host = nullptr;
  std::shared_ptr<Connection> conn;  // set while written/read on a connection
  Nanos started = 0;
  std::uint32_t attempts = 0;
  bool retry_on_stale = false;
  bool reused = false;
  bool done = false;
};

struct HttpsConnectionPool::Connection {
  enum class State : std::uint8_t { connecting, idle, busy, closed };
  Connection(asio::io_context& ioc, asio::ssl::context& ctx) : resolver(ioc), stream(ioc, ctx), timer(ioc) {}
  Tcp::resolver resolver;
  TlsSocket stream;
  asio::steady_timer timer;  // connect deadline
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  HostState* host = nullptr;
  std::shared_ptr<Pending> current;
  State state = State::connecting;
  Nanos idle_since = 0;
  std::uint64_t uses = 0;
};

struct HttpsConnectionPool::HostState {
  std::string host;
  std::string connect_host;
  std::uint16_t port = 443;
  std::deque<std::shared_ptr<Pending>> queue;
  std::vector<std::shared_ptr<Connection>> connections;
  std::size_t connecting = 0;
};

std::shared_ptr<HttpsConnectionPool> HttpsConnectionPool::create(asio::io_context& ioc, TlsContextPtr tls,
                                                                 HttpsPoolOptions options) {
  return std::shared_ptr<HttpsConnectionPool>(new HttpsConnectionPool(ioc, std::move(tls), std::move(options)));
}

HttpsConnectionPool::HttpsConnectionPool(asio::io_context& ioc, TlsContextPtr tls, HttpsPoolOptions options)
    : ioc_(ioc), tls_(std::move(tls)), options_(std::move(options)), idle_timer_(ioc) {
  options_.max_connections = std::max<std::size_t>(options_.max_connections, 1);
  options_.max_per_host = std::clamp<std::size_t>(options_.max_per_host, 1, options_.max_connections);
}

HttpsConnectionPool::~HttpsConnectionPool() = default;

void HttpsConnectionPool::request(HttpsRequest request, Handler handler) {
  auto pending = std::make_shared<Pending>(ioc_);
  pending->handler = std::move(handler);
  pending->started = monotonic_ns();
  auto reject = [this, &pending](PoolError e, std::string why) {
    ++stats_.errors;
    asio::post(ioc_, [p = pending, e, why = std::move(why)] {
      HttpsResult result;
      result.ec = make_error_code(e);
      result.error = why;
      p->handler(result);
    });
  };
  if (shut_down_) return reject(PoolError::shut_down, "pool shut down");

  auto& slot = hosts_[host_key(request.host, request.port)];
  if (!slot) {
    slot = std::make_unique<HostState>();
    slot->host = request.host;
    slot->port = request.port;
    slot->connect_host = request.connect_host;
  }
  HostState& host = *slot;
  if (host.queue.size() >= options_.max_queued_per_host) {
    ++stats_.queue_rejected;
    return reject(PoolError::queue_full, "queue for " + request.host + " holds " + std::to_string(host.queue.size()));
  }
  ++stats_.requests;

  auto& msg = pending->message;
  msg.method(request.method);
  msg.target(request.target);
  msg.version(11);
  msg.set(http::field::host, request.port == 443 ? request.host : request.host + ":" + std::to_string(request.port));
  msg.set(http::field::user_agent, options_.user_agent);
  for (auto& [name, value] : request.headers) msg.set(name, value);
  if (!request.body.empty() || request.method == http::verb::post || request.method == http::verb::put) {
    if (!request.content_type.empty()) msg.set(http::field::content_type, request.content_type);
    msg.body() = std::move(request.body);
  }
  msg.keep_alive(true);
  msg.prepare_payload();

  switch (request.retry) {
    case RetryPolicy::method_default:
      pending->retry_on_stale = request.method == http::verb::get || request.method == http::verb::head;
      break;
    case RetryPolicy::retry_on_stale: pending->retry_on_stale = true; break;
    case RetryPolicy::never: pending->retry_on_stale = false; break;
  }
  pending->host = &host;
  pending->timer.expires_after(to_duration(request.timeout > 0 ? request.timeout : options_.request_timeout));
  pending->timer.async_wait([self = shared_from_this(), p = std::weak_ptr<Pending>(pending)](const error_code& ec) {
    if (ec) return;
    if (auto pending_request = p.lock()) self->on_request_timeout(pending_request);
  });
  host.queue.push_back(std::move(pending));
  dispatch(host);
}

void HttpsConnectionPool::dispatch(HostState& host) {
  if (shut_down_) return;
  // Hand queued requests to idle connections, most recently used first (least likely stale).
  while (!host.queue.empty()) {
    std::shared_ptr<Connection> best;
    for (auto& c : host.connections) {
      if (c->state == Connection::State::idle && (!best || c->idle_since > best->idle_since)) best = c;
    }
    if (!best) break;
    auto pending = std::move(host.queue.front());
    host.queue.pop_front();
    start(best, pending);
  }
  // Open connections for the requests no connecting socket will serve.
  while (host.queue.size() > host.connecting && host.connections.size() < options_.max_per_host) {
    if (total_connections_ >= options_.max_connections && !evict_idle_elsewhere(host)) break;
    open_connection(host);
  }
}

bool HttpsConnectionPool::evict_idle_elsewhere(const HostState& except) {
  std::shared_ptr<Connection> oldest;
  for (auto& [key, other] : hosts_) {
    if (other.get() == &except) continue;
    for (auto& c : other->connections) {
      if (c->state == Connection::State::idle && (!oldest || c->idle_since < oldest->idle_since)) oldest = c;
    }
  }
  if (!oldest) return false;
  drop(oldest, true);
  return true;
}

void HttpsConnectionPool::open_connection(HostState& host) {
  auto conn = std::make_shared<Connection>(ioc_, *tls_);
  conn->host = &host;
  host.connections.push_back(conn);
  ++host.connecting;
  ++total_connections_;
  ++stats_.connections_opened;

  conn->timer.expires_after(to_duration(options_.connect_timeout));
  conn->timer.async_wait([self = shared_from_this(), conn](const error_code& ec) {
    if (ec || conn->state != Connection::State::connecting) return;
    self->on_connected(conn, beast::error::timeout, "connect");
  });
  const std::string& name = host.connect_host.empty() ? host.host : host.connect_host;
  conn->resolver.async_resolve(
      name, std::to_string(host.port),
      [self = shared_from_this(), conn](const error_code& ec, const Tcp::resolver::results_type& results) {
        if (conn->state != Connection::State::connecting) return;
        if (ec) return self->on_connected(conn, ec, "resolve");
        asio::async_connect(conn->stream.next_layer(), results, [self, conn](const error_code& e, const Tcp::endpoint&) {
          if (conn->state != Connection::State::connecting) return;
          if (e) return self->on_connected(conn, e, "tcp connect");
          error_code setup;
          conn->stream.next_layer().set_option(Tcp::no_delay(true), setup);
          if (!setup) conn->stream.attach(setup);
          if (setup) return self->on_connected(conn, setup, "tcp connect");
          if (!configure_client_ssl(conn->stream.native_handle(), conn->host->host)) {
            return self->on_connected(conn, asio::error::invalid_argument, "tls setup");
          }
          conn->stream.async_handshake([self, conn](const error_code& e2, std::size_t) {
            if (conn->state != Connection::State::connecting) return;
            self->on_connected(conn, e2, "tls handshake");
          });
        });
      });
}

void HttpsConnectionPool::on_connected(const std::shared_ptr<Connection>& conn, const error_code& ec,
                                       const char* what) {
  HostState& host = *conn->host;
  conn->timer.cancel();
  if (ec) {
    std::string message = std::string(what) + ": " + ec.message();
    const long verify = SSL_get_verify_result(conn->stream.native_handle());
    if (verify != X509_V_OK) message += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    drop(conn, false);
    // This connection was opened for the request at the head of the queue: it gets the error.
    if (host.queue.size() > host.connecting) {
      auto pending = host.queue.front();
      host.queue.pop_front();
      complete(pending, ec == beast::error::timeout ? make_error_code(PoolError::timeout) : ec, std::move(message));
    }
    dispatch(host);
    return;
  }
  --host.connecting;
  conn->state = Connection::State::idle;
  conn->idle_since = monotonic_ns();
  dispatch(host);
  arm_idle_sweep();
}

void HttpsConnectionPool::start(const std::shared_ptr<Connection>& conn, const std::shared_ptr<Pending>& pending) {
  conn->state = Connection::State::busy;
  conn->current = pending;
  pending->conn = conn;
  pending->reused = conn->uses > 0;
  ++pending->attempts;
  if (pending->reused) ++stats_.reuses;
  ++conn->uses;
  // The handler owns `pending` because the write operation reads pending->message until it
  // completes, and a completion can still be on its way (posted, or aborted by a close) after
  // a timeout or shutdown() has completed and released the request.
  http::async_write(conn->stream, pending->message,
                    [self = shared_from_this(), conn, pending](const error_code& ec, std::size_t) {
                      self->on_write(conn, ec);
                    });
}

void HttpsConnectionPool::on_write(const std::shared_ptr<Connection>& conn, const error_code& ec) {
  if (conn->state != Connection::State::busy) return;  // dropped (timeout, shutdown)
  if (ec) return on_exchange_failed(conn, ec, "write", true);
  conn->parser.emplace();
  conn->parser->body_limit(options_.max_response_body);
  if (conn->current->message.method() == http::verb::head) conn->parser->skip(true);
  http::async_read(conn->stream, conn->buffer, *conn->parser,
                   [self = shared_from_this(), conn](const error_code& e, std::size_t) { self->on_read(conn, e); });
}

void HttpsConnectionPool::on_read(const std::shared_ptr<Connection>& conn, const error_code& ec) {
  if (conn->state != Connection::State::busy) return;
  if (ec) return on_exchange_failed(conn, ec, "read", !conn->parser->got_some());

  auto pending = std::exchange(conn->current, nullptr);
  pending->conn.reset();
  HttpResponse response = conn->parser->release();
  conn->parser.reset();
  HostState& host = *conn->host;
  if (response.keep_alive()) {
    conn->state = Connection::State::idle;
    conn->idle_since = monotonic_ns();
    arm_idle_sweep();
  } else {
    drop(conn, true);
  }
  ++stats_.responses;
  if (!pending->done) {
    pending->done = true;
    pending->timer.cancel();
    HttpsResult result;
    result.response = std::move(response);
    result.reused_connection = pending->reused;
    result.attempts = pending->attempts;
    result.elapsed = monotonic_ns() - pending->started;
    pending->handler(result);
  }
  dispatch(host);
}

void HttpsConnectionPool::on_exchange_failed(const std::shared_ptr<Connection>& conn, const error_code& ec,
                                             const char* what, bool nothing_received) {
  auto pending = std::exchange(conn->current, nullptr);
  pending->conn.reset();
  HostState& host = *conn->host;
  const bool stale = conn->uses > 1 && nothing_received && closed_by_peer(ec);
  drop(conn, false);
  if (!pending->done) {
    if (stale && pending->retry_on_stale && pending->attempts < 2) {
      ++stats_.retries;
      host.queue.push_front(pending);  // first in line for a fresh connection
    } else if (stale) {
      complete(pending, make_error_code(PoolError::connection_closed),
               std::string(what) + ": " + ec.message() + " on a reused connection (not retried)");
    } else {
      complete(pending, ec, std::string(what) + ": " + ec.message());
    }
  }
  dispatch(host);
}

void HttpsConnectionPool::on_request_timeout(const std::shared_ptr<Pending>& pending) {
  if (pending->done) return;
  ++stats_.timeouts;
  HostState& host = *pending->host;
  if (auto conn = pending->conn) {
    conn->current.reset();
    pending->conn.reset();
    drop(conn, false);  // the only way to abandon an HTTP/1.1 exchange
  } else {
    auto it = std::find(host.queue.begin(), host.queue.end(), pending);
    if (it != host.queue.end()) host.queue.erase(it);
  }
  complete(pending, make_error_code(PoolError::timeout), "request deadline passed");
  dispatch(host);
}

void HttpsConnectionPool::complete(const std::shared_ptr<Pending>& pending, error_code ec, std::string error) {
  if (pending->done) return;
  pending->done = true;
  pending->timer.cancel();
  ++stats_.errors;
  HttpsResult result;
  result.ec = ec;
  result.error = std::move(error);
  result.reused_connection = pending->reused;
  result.attempts = pending->attempts;
  result.elapsed = monotonic_ns() - pending->started;
  pending->handler(result);
}

void HttpsConnectionPool::drop(const std::shared_ptr<Connection>& conn, bool graceful) {
  if (conn->state == Connection::State::closed) return;
  HostState& host = *conn->host;
  if (conn->state == Connection::State::connecting) --host.connecting;
  conn->state = Connection::State::closed;
  std::erase(host.connections, conn);
  --total_connections_;
  ++stats_.connections_closed;
  conn->timer.cancel();
  conn->resolver.cancel();
  error_code ignored;
  if (graceful) {
    conn->stream.shutdown_and_close(ignored);  // close_notify if the socket takes it now, then close
  } else {
    conn->stream.next_layer().close(ignored);
  }
}

void HttpsConnectionPool::arm_idle_sweep() {
  if (idle_timer_armed_ || shut_down_) return;
  idle_timer_armed_ = true;
  const Nanos period = std::clamp<Nanos>(options_.idle_timeout / 4, 10 * kNanosPerMilli, kNanosPerSecond);
  idle_timer_.expires_after(to_duration(period));
  idle_timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->on_idle_sweep(ec); });
}

void HttpsConnectionPool::on_idle_sweep(const error_code& ec) {
  idle_timer_armed_ = false;
  if (ec || shut_down_) return;
  const Nanos now = monotonic_ns();
  bool any_idle = false;
  for (auto& [key, host] : hosts_) {
    std::vector<std::shared_ptr<Connection>> expired;
    for (auto& c : host->connections) {
      if (c->state != Connection::State::idle) continue;
      if (now - c->idle_since >= options_.idle_timeout) {
        expired.push_back(c);
      } else {
        any_idle = true;
      }
    }
    for (auto& c : expired) {
      ++stats_.idle_expired;
      drop(c, true);
    }
  }
  if (any_idle) arm_idle_sweep();
}

void HttpsConnectionPool::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  idle_timer_.cancel();
  for (auto& [key, host] : hosts_) {
    auto queued = std::move(host->queue);
    host->queue.clear();
    for (auto& p : queued) complete(p, make_error_code(PoolError::shut_down), "pool shut down");
    auto connections = host->connections;
    for (auto& c : connections) {
      auto pending = std::exchange(c->current, nullptr);
      drop(c, c->state == Connection::State::idle);
      if (pending) {
        pending->conn.reset();
        complete(pending, make_error_code(PoolError::shut_down), "pool shut down");
      }
    }
  }
}

HttpsPoolStats HttpsConnectionPool::stats() const {
  HttpsPoolStats s = stats_;
  s.connections_open = total_connections_;
  s.connections_idle = 0;
  s.queued = 0;
  for (const auto& [key, host] : hosts_) {
    s.queued += host->queue.size();
    for (const auto& c : host->connections) s.connections_idle += c->state == Connection::State::idle ? 1U : 0U;
  }
  return s;
}

}  // namespace tb::net

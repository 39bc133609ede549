// HttpsConnectionPool: keep-alive HTTP/1.1 over TLS for REST calls (exchange API, simulator).
// - Connections per host ("host:port") are reused; at most `max_per_host` per host and
//   `max_connections` in total (an idle connection of another host is closed to make room).
// - When no connection is free the request waits in a bounded per-host FIFO; overflow fails at
//   once with PoolError::queue_full. Every request has a deadline covering queueing, connecting,
//   writing and reading (PoolError::timeout; the connection it was using is closed).
// - Idle connections are closed after `idle_timeout`; broken ones and `Connection: close`
//   responses are dropped, never reused.
// - A reused keep-alive connection the server had already closed (no response byte received)
//   is retried once on a fresh connection ONLY when the request allows it: by default GET and
//   HEAD. Anything else (POST/PUT/DELETE: Binance DELETE /order must not be repeated blindly)
//   must opt in with RetryPolicy::retry_on_stale; otherwise the caller gets the error.
// - The full response (status, every header such as X-MBX-USED-WEIGHT-1M and Retry-After, body)
//   reaches the handler.
// Threading: all calls and all handlers on the caller's io_context thread (the trading thread).
// Handlers never run inside request(); errors found at submission are posted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/net/tls_context.hpp"

namespace tb::net {

enum class PoolError {
  queue_full = 1,     // per-host queue at its bound
  timeout,            // request deadline passed
  shut_down,          // pool shut down before the request finished
  connection_closed,  // the server closed the connection before answering (not retried)
};
[[nodiscard]] const boost::system::error_category& pool_category() noexcept;
[[nodiscard]] boost::system::error_code make_error_code(PoolError e) noexcept;

struct HttpsPoolOptions {
  std::size_t max_connections = 100;
  std::size_t max_per_host = 30;
  std::size_t max_queued_per_host = 256;
  Nanos idle_timeout = 30 * kNanosPerSecond;
  Nanos connect_timeout = 5 * kNanosPerSecond;   // resolve + TCP + TLS handshake
  Nanos request_timeout = 10 * kNanosPerSecond;  // default per-request deadline
  std::size_t max_response_body = 16 * 1024 * 1024;
  std::string user_agent = "tradingbot";
};

enum class RetryPolicy : std::uint8_t {
  method_default,  // retry on a stale keep-alive connection only for GET and HEAD
  retry_on_stale,  // opt-in for a request known to be safe to repeat
  never,
};

struct HttpsRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string host;            // DNS name (SNI + certificate check) or IP literal
  std::uint16_t port = 443;
  std::string target;          // "/api/v3/depth?symbol=BTCUSDT&limit=100"
  std::string body;
  std::string content_type;    // sent when body is not empty
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"X-MBX-APIKEY", key}
  Nanos timeout = 0;           // 0 = HttpsPoolOptions::request_timeout
  RetryPolicy retry = RetryPolicy::method_default;
  std::string connect_host;    // resolve this instead of `host` when set
};

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct HttpsResult {
  boost::system::error_code ec;  // PoolError, or the asio/ssl/beast error of the failed phase
  std::string error;             // "tls handshake: certificate verify failed (...)"
  HttpResponse response;         // meaningful only when !ec
  bool reused_connection = false;
  std::uint32_t attempts = 0;
  Nanos elapsed = 0;
  [[nodiscard]] bool ok() const noexcept { return !ec; }
};

struct HttpsPoolStats {
  std::size_t connections_open = 0;  // including those still connecting
  std::size_t connections_idle = 0;
  std::size_t queued = 0;
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_closed = 0;
  std::uint64_t idle_expired = 0;
  std::uint64_t reuses = 0;     // requests sent on an already used connection
  std::uint64_t requests = 0;   // accepted by request()
  std::uint64_t responses = 0;  // complete responses (any status)
  std::uint64_t errors = 0;     // handlers called with an error
  std::uint64_t retries = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t queue_rejected = 0;
};

class HttpsConnectionPool : public std::enable_shared_from_this<HttpsConnectionPool> {
 public:
  using Handler = std::function<void(HttpsResult&)>;

  [[nodiscard]] static std::shared_ptr<HttpsConnectionPool> create(boost::asio::io_context& ioc, TlsContextPtr tls,
                                                                   HttpsPoolOptions options = {});
  ~HttpsConnectionPool();
  HttpsConnectionPool(const HttpsConnectionPool&) = delete;
  HttpsConnectionPool& operator=(const HttpsConnectionPool&) = delete;

  void request(HttpsRequest request, Handler handler);
  // Fails queued and in-flight requests with PoolError::shut_down and closes every connection.
  void shutdown();

  [[nodiscard]] HttpsPoolStats stats() const;
  [[nodiscard]] const HttpsPoolOptions& options() const noexcept { return options_; }

 private:
  struct Connection;
  struct Pending;
  struct HostState;

  HttpsConnectionPool(boost::asio::io_context& ioc, TlsContextPtr tls, HttpsPoolOptions options);
  void dispatch(HostState& host);
  void open_connection(HostState& host);
  void on_connected(const std::shared_ptr<Connection>& conn, const boost::system::error_code& ec, const char* what);
  void start(const std::shared_ptr<Connection>& conn, const std::shared_ptr<Pending>& pending);
  void on_write(const std::shared_ptr<Connection>& conn, const boost::system::error_code& ec);
  void on_read(const std::shared_ptr<Connection>& conn, const boost::system::error_code& ec);
  void on_exchange_failed(const std::shared_ptr<Connection>& conn, const boost::system::error_code& ec,
                          const char* what, bool nothing_received);
  void on_request_timeout(const std::shared_ptr<Pending>& pending);
  void complete(const std::shared_ptr<Pending>& pending, boost::system::error_code ec, std::string error);
  void drop(const std::shared_ptr<Connection>& conn, bool graceful);
  bool evict_idle_elsewhere(const HostState& except);
  void arm_idle_sweep();
  void on_idle_sweep(const boost::system::error_code& ec);

  boost::asio::io_context& ioc_;
  TlsContextPtr tls_;
  HttpsPoolOptions options_;
  std::unordered_map<std::string, std::unique_ptr<HostState>> hosts_;  // never erased
  boost::asio::steady_timer idle_timer_;
  bool idle_timer_armed_ = false;
  bool shut_down_ = false;
  std::size_t total_connections_ = 0;
  HttpsPoolStats stats_;
};

}  // namespace tb::net

template <>
struct boost::system::is_error_code_enum<tb::net::PoolError> : std::true_type {};

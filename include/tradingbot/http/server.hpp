// Server: the daemon's HTTP/1.1 server for /health, /ready, /status, /metrics, /book, /price and
// /control (ARCHITECTURE.md section 6). Plain TCP (nginx terminates TLS in front). It owns
// `http.threads` threads (default 1), each running its own asio::io_context, so a `wrk` storm
// never delays the trading thread; handlers may therefore run on several threads at once and
// must only read published state (the daemon's all do).
// Hardened for hostile clients: header limit (431), body limit (413), malformed requests (400
// and close), a whole-request read deadline (slowloris), a keep-alive idle deadline, a write
// deadline, a connection cap (beyond it: 503 and close, counted), HTTP/1.0 and Connection: close
// honoured, pipelined requests answered in order, HEAD answered without a body.
// Deferred routes (Router::add_deferred, responder.hpp) answer later from any thread; while one
// is outstanding its connection reads nothing more (later pipelined requests wait behind it)
// and a client that disconnects meanwhile is noticed when the answer or the 504 is written.
// Lifecycle: construct and start() on one thread (the app's main thread); stop() (or the
// destructor) from any thread except an HTTP thread itself; stats() and port() from any thread.
// A Server is started at most once.
//
//   tb::http::Router router;
//   router.get("/health", [&](const Request&, Response& res) { res.set_json(200, R"({"status":"ok"})"); });
//   router.get_prefix("/book/", [&](const Request& req, Response& res) {
//     const auto depth = req.query("depth");                 // "20", percent-decoded
//     tb::http::JsonWriter json(res.body);                    // renders into the reused body
//     json.begin_object().member("symbol", req.path_param()) /* ... */ .end_object();
//   });
//   router.get("/metrics", [&](const Request&, Response& res) {
//     res.content_type = tb::http::kPrometheusContentType;
//     tb::http::PrometheusWriter metrics(res.body);
//     tb::http::write_server_metrics(metrics, http_server->stats());  // app keeps a Server*; add its own families
//   });
//   tb::http::Server server(config.http, std::move(router));
//   if (auto port = server.start(); !port) { /* port.error().message names address and reason */ }
#pragma once

#include <cstdint>
#include <memory>

#include "tradingbot/config/config.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/http/router.hpp"
#include "tradingbot/http/server_stats.hpp"

namespace tb::http {

namespace detail {
class ServerCore;
}

class Server {
 public:
  // Copies what it needs from `config`; the router is moved in and read-only from then on.
  Server(const config::HttpConfig& config, Router router);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds listen_host:listen_port (port 0 picks a free port), starts the HTTP threads and returns
  // the bound port. The error names the address and the reason, e.g.
  // "http: cannot listen on 127.0.0.1:8080: Address already in use".
  Result<std::uint16_t> start();

  // Graceful stop: stops accepting, lets responses being written finish (at most ~1 s), closes
  // every connection, joins the thread. Idempotent; must not be called from a handler.
  void stop();

  [[nodiscard]] std::uint16_t port() const noexcept;  // bound port; 0 before start()
  [[nodiscard]] bool running() const noexcept;
  [[nodiscard]] ServerStats stats() const noexcept;

 private:
  std::unique_ptr<detail::ServerCore> core_;
};

}  // namespace tb::http

// FakeHttpsServer: a small HTTP/1.1 keep-alive server over TLS on 127.0.0.1 for the network
// tests. Counts accepts, open connections (and their maximum), requests; can delay responses and
// can close each connection right after answering without saying so (what a server's keep-alive
// timeout looks like to a client). By default it answers 200 with the request target as the
// body; a `responder` answers instead (FakeBinanceRest is one). Test-only, one io_context.
//
// The TLS session and Beast's asynchronous HTTP operations live in fake_https_server.cpp,
// compiled once for every test that uses the fake.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "tradingbot/net/tls_context.hpp"

namespace tb::net::test {

class FakeHttpsServer {
 public:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  enum class Reply {
    Send,            // write `response` (after `delay`)
    DropConnection,  // answer nothing: close the TCP connection at once
  };
  // Called when a request arrives, with the default answer already in `response` (200,
  // JSON content type, X-MBX-USED-WEIGHT-1M = requests so far, the target as body) and the
  // 1-based number of the connection it came on.
  using Responder = std::function<Reply(const Request&, Response&, int connection)>;

  FakeHttpsServer(boost::asio::io_context& ioc, TlsContextPtr tls);
  ~FakeHttpsServer();
  FakeHttpsServer(const FakeHttpsServer&) = delete;
  FakeHttpsServer& operator=(const FakeHttpsServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::chrono::milliseconds delay{0};          // before each response
  std::chrono::milliseconds slow_delay{2000};  // instead of `delay` for target "/slow"
  bool close_after_response = false;           // silently, keeping "Connection: keep-alive"
  int accepts = 0;
  int open_connections = 0;
  int max_open_connections = 0;
  int requests = 0;
  std::vector<std::string> methods;
  std::vector<std::string> targets;  // request targets, in arrival order
  Responder responder;

 private:
  class Session;
  void accept();

  TlsContextPtr tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace tb::net::test

// FakeWsServer: a small WebSocket server over TLS on 127.0.0.1 for the network tests. It counts
// accepts, records what clients send (text frames and pongs, with arrival times), and lets a test
// send, ping, broadcast, close or drop each session. Test-only, one io_context.
//
// The Beast stream and its asynchronous operations live in fake_ws_server.cpp, compiled once:
// instantiated in every test that included them, they cost minutes of build time per test.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/net/tls_context.hpp"

namespace tb::net::test {

class FakeWsServer {
 public:
  struct Event {
    Nanos at;
    bool pong;
    std::string payload;
  };

  // One accepted client. The test reads the public fields; the transport is private to the .cpp.
  class Session : public std::enable_shared_from_this<Session> {
   public:
    virtual ~Session() = default;
    virtual void send(std::string text) = 0;
    virtual void ping(std::string payload) = 0;
    virtual void close(std::string reason) = 0;  // WebSocket close with "going away"
    virtual void drop() = 0;                     // abrupt: TCP close without WebSocket or TLS goodbye

    bool open = false;
    bool closed = false;
    std::vector<Event> events;  // texts and pongs from the client, in arrival order
    std::string close_reason;   // the client's, when it closed properly
  };

  FakeWsServer(boost::asio::io_context& ioc, TlsContextPtr tls);
  ~FakeWsServer();
  FakeWsServer(const FakeWsServer&) = delete;
  FakeWsServer& operator=(const FakeWsServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void broadcast(const std::string& text);
  // Stops accepting and drops every open session.
  void stop();

  int accepts = 0;
  int closed_sessions = 0;
  std::vector<std::shared_ptr<Session>> sessions;
  std::function<void(Session&)> on_open;
  std::function<void(Session&, const std::string&)> on_text;

 private:
  class TlsSession;
  void accept();

  TlsContextPtr tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace tb::net::test

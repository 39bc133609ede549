// WebSocketClient and ReconnectingWebSocket against FakeWsServer over real TLS on 127.0.0.1.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include <openssl/ssl.h>

#include "fakes/fake_ws_server.hpp"
#include "test_support.hpp"
#include "tradingbot/net/websocket_client.hpp"

using namespace tb;
using namespace tb::net;
using namespace tb::net::test;
using namespace std::chrono_literals;

namespace {

WebSocketOptions ws_options(std::uint16_t port) {
  WebSocketOptions o;
  o.host = "localhost";
  o.connect_host = "127.0.0.1";
  o.port = port;
  o.target = "/stream?streams=btcusdt@bookTicker";
  o.resolve_timeout = o.connect_timeout = o.tls_handshake_timeout = o.ws_handshake_timeout = 2 * kNanosPerSecond;
  o.close_timeout = kNanosPerSecond;
  o.liveness_timeout = 5 * kNanosPerSecond;
  return o;
}

}  // namespace

TEST_CASE("WebSocketClient exchanges messages both ways and closes with a reason", "[net][ws]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  server.on_open = [](FakeWsServer::Session& s) {
    s.send(R"({"stream":"btcusdt@bookTicker","data":{"u":1}})");
    s.send("second");
  };

  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  std::vector<std::string> received;
  bool padded = true;
  bool opened = false;
  std::optional<CloseReason> closed;
  client->on_open([&] {
    opened = true;
    CHECK(client->send("hello server", Pacing::unpaced) == SendStatus::queued);
  });
  client->on_message([&](const WsMessage& m) {
    received.emplace_back(m.payload);
    CHECK(m.text);
    for (std::size_t i = 0; i < kReceivePadding; ++i) padded = padded && m.payload.data()[m.payload.size() + i] == 0;
  });
  client->on_closed([&](const CloseReason& r) { closed = r; });
  client->connect();

  REQUIRE(run_until(ioc, [&] {
    return received.size() == 2 && !server.sessions.empty() && !server.sessions[0]->events.empty();
  }));
  CHECK(opened);
  CHECK(received[0] == R"({"stream":"btcusdt@bookTicker","data":{"u":1}})");
  CHECK(received[1] == "second");
  CHECK(padded);
  CHECK(server.sessions[0]->events[0].payload == "hello server");
  CHECK(client->stats().messages_received == 2);
  CHECK(client->stats().messages_sent == 1);

  client->close("shutting down for test");
  REQUIRE(run_until(ioc, [&] { return closed.has_value() && server.closed_sessions == 1; }));
  CHECK(closed->cause == CloseCause::local);
  CHECK(closed->was_open);
  CHECK(server.sessions[0]->close_reason == "shutting down for test");
  CHECK(client->send("late") == SendStatus::not_open);
}

// Every message completes a read and every send a write; Asio's per-thread recycling cannot hold
// a Beast operation over TlsSocket (over 1 KB), so the client hands Asio its own memory. A Beast
// or Asio change that outgrows it, or that stops passing the handler's allocator along, shows
// here instead of as a malloc per market-data message and per order.
TEST_CASE("WebSocketClient's reads and writes take Asio's memory from its arenas, not the heap", "[net][ws]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  constexpr int kMessages = 200;
  server.on_open = [](FakeWsServer::Session& s) {
    for (int i = 0; i < kMessages; ++i) s.send(R"({"stream":"btcusdt@depth@100ms","data":{"u":)" + std::to_string(i) + "}}");
  };
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  int received = 0;
  int sent = 0;
  client->on_message([&](const WsMessage&) { ++received; });
  client->on_open([&] { CHECK(client->send("first", Pacing::unpaced) == SendStatus::queued); });
  client->connect();
  // One send per turn of the loop: each write completes (or is still in flight) before the next.
  REQUIRE(run_until(ioc, [&] {
    if (client->stats().messages_sent == static_cast<std::uint64_t>(sent + 1) && sent + 1 < kMessages) {
      ++sent;
      CHECK(client->send("order " + std::to_string(sent), Pacing::unpaced) == SendStatus::queued);
    }
    return received == kMessages && !server.sessions.empty() &&
           server.sessions[0]->events.size() == static_cast<std::size_t>(kMessages);
  }));
  CHECK(client->stats().messages_sent == static_cast<std::uint64_t>(kMessages));
  CHECK(client->stats().read_heap_allocations == 0);
  CHECK(client->stats().write_heap_allocations == 0);
}

// Several TLS records per message, and more than the socket buffers hold: the client's TLS
// writes hit "would block" and resume on writability, with OpenSSL handed the same bytes again.
TEST_CASE("WebSocketClient moves messages larger than the socket buffers intact, both ways", "[net][ws][tls]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  const auto make = [](std::size_t size, char salt) {
    std::string text(size, ' ');
    for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + static_cast<std::size_t>(salt)) % 26);
    return text;
  };
  const std::string down = make(3 * 1024 * 1024 + 17, 'd');
  const std::vector<std::string> up = {make(4 * 1024 * 1024 + 5, 'u'), make(100, 'v'), make(1024 * 1024, 'w')};
  server.on_open = [&](FakeWsServer::Session& s) { s.send(down); };
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  std::vector<std::string> received;
  client->on_open([&] {
    for (const auto& m : up) CHECK(client->send(m, Pacing::unpaced) == SendStatus::queued);
  });
  client->on_message([&](const WsMessage& m) { received.emplace_back(m.payload); });
  client->connect();
  REQUIRE(run_until(ioc, [&] {
    return received.size() == 1 && !server.sessions.empty() && server.sessions[0]->events.size() == up.size();
  }));
  CHECK(received[0] == down);
  for (std::size_t i = 0; i < up.size(); ++i) CHECK(server.sessions[0]->events[i].payload == up[i]);
  CHECK(client->stats().bytes_sent == up[0].size() + up[1].size() + up[2].size());
}

// Binance's front ends speak TLS 1.2 as well as 1.3; the 1.2 record layer and handshake (explicit
// nonces, a server Finished after the client's) run through the same TlsSocket steps.
TEST_CASE("WebSocketClient works with a TLS 1.2 server", "[net][ws][tls]") {
  boost::asio::io_context ioc;
  TlsContextPtr tls12 = server_tls(pki().localhost);
  REQUIRE(SSL_CTX_set_max_proto_version(tls12->native_handle(), TLS1_2_VERSION) == 1);
  FakeWsServer server(ioc, tls12);
  server.on_open = [](FakeWsServer::Session& s) { s.send("over tls 1.2"); };
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  std::vector<std::string> received;
  client->on_open([&] { CHECK(client->send(std::string(20000, 'z'), Pacing::unpaced) == SendStatus::queued); });
  client->on_message([&](const WsMessage& m) { received.emplace_back(m.payload); });
  client->connect();
  REQUIRE(run_until(ioc, [&] {
    return received.size() == 1 && !server.sessions.empty() && server.sessions[0]->events.size() == 1;
  }));
  CHECK(received[0] == "over tls 1.2");
  CHECK(server.sessions[0]->events[0].payload == std::string(20000, 'z'));
}

// A peer that vanishes (TCP closed, no TLS or WebSocket goodbye) while we write: the write fails
// with an error (send() carries MSG_NOSIGNAL: no SIGPIPE kills the process) and the connection
// ends as an I/O error, once.
TEST_CASE("WebSocketClient writing to a vanished peer ends with an I/O error, not a signal", "[net][ws][tls]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  std::vector<CloseReason> closes;
  client->on_closed([&](const CloseReason& r) { closes.push_back(r); });
  client->connect();
  REQUIRE(run_until(ioc, [&] { return client->is_open() && !server.sessions.empty() && server.sessions[0]->open; }));
  server.sessions[0]->drop();
  const std::string big(1024 * 1024, 'x');
  // Keep writing until the failure surfaces (the first writes may still be accepted by the kernel).
  REQUIRE(run_until(ioc, [&] {
    if (closes.empty() && client->queued() == 0) (void)client->send(big, Pacing::unpaced);
    return !closes.empty();
  }));
  run_for(ioc, std::chrono::milliseconds(50));
  REQUIRE(closes.size() == 1);
  CHECK(closes[0].cause == CloseCause::io_error);
  CHECK(closes[0].was_open);
}

TEST_CASE("WebSocketClient answers a server ping with a pong carrying the same payload", "[net][ws]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  server.on_open = [](FakeWsServer::Session& s) { s.ping("1718000000000"); };
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  client->connect();
  REQUIRE(run_until(ioc, [&] { return !server.sessions.empty() && !server.sessions[0]->events.empty(); }));
  const auto& e = server.sessions[0]->events[0];
  CHECK(e.pong);
  CHECK(e.payload == "1718000000000");
  CHECK(client->stats().pongs_sent == 1);
  CHECK(client->stats().control_frames_received == 1);
  client->close();
  run_until(ioc, [&] { return server.closed_sessions == 1; });
}

// Messages are framed and written inside send() when the connection is write-idle; Beast still
// writes its own pongs. The two must never interleave inside a record or overtake each other's
// bytes: a server pinging hard while the client sends receives every message intact, in order,
// and a pong for every ping.
TEST_CASE("WebSocketClient's direct frames and Beast's pongs share the connection cleanly", "[net][ws][direct]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  constexpr int kPings = 150;
  constexpr int kMessages = 400;
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  client->connect();
  REQUIRE(run_until(ioc, [&] { return client->stats().connected_at != 0 && !server.sessions.empty(); }));
  FakeWsServer::Session& session = *server.sessions[0];
  int sent = 0;
  int pinged = 0;
  const auto text_of = [](int i) { return "order " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 97), 'x'); };
  REQUIRE(run_until(ioc, [&] {
    // Per turn: a ping from the server and a few messages from the client, so pongs are due
    // (and in flight) while direct writes are attempted.
    if (pinged < kPings) session.ping(std::to_string(pinged++));
    for (int k = 0; k < 3 && sent < kMessages; ++k) {
      REQUIRE(client->send(text_of(sent), Pacing::unpaced) == SendStatus::queued);
      ++sent;
    }
    return sent == kMessages && session.events.size() == static_cast<std::size_t>(kMessages + kPings);
  }));
  int texts = 0;
  int pongs = 0;
  for (const auto& e : session.events) {
    if (e.pong) {
      CHECK(e.payload == std::to_string(pongs));
      ++pongs;
    } else {
      CHECK(e.payload == text_of(texts));
      ++texts;
    }
  }
  CHECK(texts == kMessages);
  CHECK(pongs == kPings);
  CHECK(client->stats().messages_sent == static_cast<std::uint64_t>(kMessages));
  CHECK(client->stats().direct_writes > 0);  // the path under test was taken
  CHECK(client->stats().pongs_sent == static_cast<std::uint64_t>(kPings));
}

// A direct frame the socket takes only part of: OpenSSL keeps the rest of the record, the client
// queues what follows, and everything arrives intact and in order once the peer reads again.
TEST_CASE("WebSocketClient finishes a direct frame the socket took only part of", "[net][ws][direct][tls]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  client->connect();
  REQUIRE(run_until(ioc, [&] { return client->stats().connected_at != 0 && !server.sessions.empty(); }));
  const auto text_of = [](int i) {
    std::string t(16000, static_cast<char>('a' + i % 26));
    t.replace(0, std::to_string(i).size(), std::to_string(i));
    return t;
  };
  // Nothing runs the io_context here: the server reads nothing until both socket buffers fill.
  int sent = 0;
  int after_pending = 0;
  for (; sent < 4000 && after_pending < 20; ++sent) {
    if (client->stats().direct_writes_pending > 0) ++after_pending;
    REQUIRE(client->send(text_of(sent), Pacing::unpaced) == SendStatus::queued);
  }
  REQUIRE(client->stats().direct_writes_pending == 1);
  // Pings the client answers while the rest of that record still waits for the socket: Beast's
  // pongs must go out after it, never inside it.
  constexpr int kPings = 5;
  for (int i = 0; i < kPings; ++i) server.sessions[0]->ping("p" + std::to_string(i));
  REQUIRE(run_until(ioc, [&] { return server.sessions[0]->events.size() == static_cast<std::size_t>(sent + kPings); },
                    std::chrono::seconds(20)));
  int texts = 0;
  int pongs = 0;
  for (const auto& e : server.sessions[0]->events) {
    if (e.pong) {
      CHECK(e.payload == "p" + std::to_string(pongs++));
    } else if (e.payload != text_of(texts++)) {
      FAIL("message " << texts - 1 << " arrived damaged or out of order");
    }
  }
  CHECK(texts == sent);
  CHECK(pongs == kPings);
  CHECK(client->stats().messages_sent == static_cast<std::uint64_t>(sent));
  // The queue drained after the flush, and direct writes resumed once it had.
  CHECK(client->send("last", Pacing::unpaced) == SendStatus::queued);
  REQUIRE(run_until(ioc, [&] { return server.sessions[0]->events.size() == static_cast<std::size_t>(sent + kPings + 1); }));
  CHECK(server.sessions[0]->events.back().payload == "last");
}

TEST_CASE("WebSocketClient declares a silent connection dead after the liveness timeout", "[net][ws]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  auto options = ws_options(server.port());
  options.liveness_timeout = 300 * kNanosPerMilli;
  auto client = WebSocketClient::create(ioc, client_tls(), options);
  std::optional<CloseReason> closed;
  client->on_closed([&](const CloseReason& r) { closed = r; });
  client->connect();
  REQUIRE(run_until(ioc, [&] { return closed.has_value(); }, 3s));
  CHECK(closed->cause == CloseCause::liveness_timeout);
  CHECK(closed->was_open);
  CHECK(run_until(ioc, [&] { return server.closed_sessions == 1; }));
}

TEST_CASE("WebSocketClient refuses a certificate for another host", "[net][ws][tls]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().wrong_host));
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  std::optional<CloseReason> closed;
  bool opened = false;
  client->on_open([&] { opened = true; });
  client->on_closed([&](const CloseReason& r) { closed = r; });
  client->connect();
  REQUIRE(run_until(ioc, [&] { return closed.has_value(); }));
  CHECK_FALSE(opened);
  CHECK(closed->cause == CloseCause::connect_failed);
  CHECK_FALSE(closed->was_open);
  INFO(closed->message);
  CHECK(closed->message.find("tls handshake") != std::string::npos);
  CHECK(closed->message.find("ostname mismatch") != std::string::npos);
}

TEST_CASE("WebSocketClient refuses a certificate from an unknown CA", "[net][ws][tls]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().unknown_ca_localhost));
  auto client = WebSocketClient::create(ioc, client_tls(), ws_options(server.port()));
  std::optional<CloseReason> closed;
  client->on_closed([&](const CloseReason& r) { closed = r; });
  client->connect();
  REQUIRE(run_until(ioc, [&] { return closed.has_value(); }));
  CHECK(closed->cause == CloseCause::connect_failed);
  INFO(closed->message);
  CHECK(closed->message.find("certificate verify failed") != std::string::npos);
}

TEST_CASE("WebSocketClient times out a handshake the server never answers", "[net][ws]") {
  boost::asio::io_context ioc;
  // A TCP listener that accepts and never speaks TLS.
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::optional<boost::asio::ip::tcp::socket> held;
  acceptor.async_accept([&](const boost::system::error_code& ec, boost::asio::ip::tcp::socket s) {
    if (!ec) held.emplace(std::move(s));
  });
  auto options = ws_options(acceptor.local_endpoint().port());
  options.tls_handshake_timeout = 200 * kNanosPerMilli;
  auto client = WebSocketClient::create(ioc, client_tls(), options);
  std::optional<CloseReason> closed;
  client->on_closed([&](const CloseReason& r) { closed = r; });
  client->connect();
  REQUIRE(run_until(ioc, [&] { return closed.has_value(); }, 3s));
  CHECK(closed->cause == CloseCause::timeout);
  CHECK(closed->message == "tls handshake timed out");
}

TEST_CASE("ControlPacer holds client messages, pongs included, under the rate", "[net][ws][pacing]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  server.on_open = [](FakeWsServer::Session& s) {
    s.ping("p");    // the automatic pong spends one slot of the budget
    s.send("go");
  };
  auto options = ws_options(server.port());
  options.control_max_per_window = 4;
  options.control_window = 200 * kNanosPerMilli;  // 4 per 200 ms: the 4/s rule, 5x faster
  auto client = WebSocketClient::create(ioc, client_tls(), options);
  client->on_message([&](const WsMessage& m) {
    if (m.payload != "go") return;
    for (int i = 0; i < 8; ++i) {
      CHECK(client->send(R"({"method":"SUBSCRIBE","params":["s)" + std::to_string(i) + R"("],"id":)" +
                         std::to_string(i) + "}") == SendStatus::queued);
    }
  });
  client->connect();
  REQUIRE(run_until(ioc, [&] { return !server.sessions.empty() && server.sessions[0]->events.size() == 9; }));
  const auto& events = server.sessions[0]->events;
  CHECK(events[0].pong);
  CHECK(std::count_if(events.begin(), events.end(), [](const auto& e) { return e.pong; }) == 1);
  // Any 5 consecutive client messages must span at least one window (with slack for delivery
  // jitter on a loaded machine). Without pacing all 9 arrive within a millisecond or two.
  for (std::size_t i = 0; i + 4 < events.size(); ++i) {
    INFO("messages " << i << ".." << i + 4);
    CHECK(events[i + 4].at - events[i].at >= 100 * kNanosPerMilli);
  }
  client->close();
  run_until(ioc, [&] { return server.closed_sessions == 1; });
}

TEST_CASE("ReconnectingWebSocket reconnects with backoff after the server drops it", "[net][ws][reconnect]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  boost::asio::steady_timer drop_timer(ioc);
  server.on_open = [&](FakeWsServer::Session& s) {
    s.send("hello " + std::to_string(server.accepts));
    if (server.accepts == 1) {
      drop_timer.expires_after(50ms);
      drop_timer.async_wait([&s](const boost::system::error_code& ec) {
        if (!ec) s.drop();
      });
    }
  };
  ReconnectingOptions options;
  options.ws = ws_options(server.port());
  options.backoff = BackoffOptions{100 * kNanosPerMilli, 200 * kNanosPerMilli, 0, 2.0};
  auto rws = ReconnectingWebSocket::create(ioc, client_tls(), options);
  std::vector<std::string> received;
  std::vector<std::pair<CloseReason, Nanos>> disconnects;
  int opens = 0;
  rws->on_open([&](WebSocketClient&, bool standby) {
    CHECK_FALSE(standby);
    ++opens;
  });
  rws->on_message([&](const WsMessage& m) { received.emplace_back(m.payload); });
  rws->on_disconnected([&](const CloseReason& r, Nanos delay) { disconnects.emplace_back(r, delay); });
  rws->start();
  REQUIRE(run_until(ioc, [&] { return received.size() == 2; }));
  CHECK(received[0] == "hello 1");
  CHECK(received[1] == "hello 2");
  CHECK(server.accepts == 2);
  CHECK(opens == 2);
  REQUIRE(disconnects.size() == 1);
  CHECK(disconnects[0].first.cause == CloseCause::io_error);
  CHECK(disconnects[0].first.was_open);
  CHECK(disconnects[0].second <= 100 * kNanosPerMilli);  // first draw: [0, initial]
  CHECK(rws->stats().reconnects == 1);
  CHECK(rws->stats().connects == 2);
  CHECK(rws->is_open());
  rws->stop();
  CHECK(run_until(ioc, [&] { return server.closed_sessions == 2; }));
}

TEST_CASE("ReconnectingWebSocket rotation switches connections without losing a message", "[net][ws][rotation]") {
  boost::asio::io_context ioc;
  FakeWsServer server(ioc, server_tls(pki().localhost));
  // The server numbers its messages and sends each one to every open connection.
  boost::asio::steady_timer tick(ioc);
  int seq = 0;
  std::function<void()> publish = [&] {
    tick.expires_after(3ms);
    tick.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      server.broadcast(std::to_string(++seq));
      publish();
    });
  };
  publish();

  ReconnectingOptions options;
  options.ws = ws_options(server.port());
  auto rws = ReconnectingWebSocket::create(ioc, client_tls(), options);
  std::vector<int> received;
  int standby_opens = 0;
  rws->on_open([&](WebSocketClient&, bool standby) { standby_opens += standby ? 1 : 0; });
  rws->on_message([&](const WsMessage& m) {
    received.push_back(std::stoi(std::string(m.payload)));
    if (received.size() == 30) rws->rotate();
  });
  rws->start();
  REQUIRE(run_until(ioc, [&] { return rws->stats().rotations == 1 && received.size() >= 80; }));
  tick.cancel();
  CHECK(standby_opens == 1);
  CHECK(server.accepts == 2);
  CHECK(run_until(ioc, [&] { return server.closed_sessions == 1; }));  // the old one
  CHECK(rws->stats().reconnects == 0);
  // Gap-free: nothing newer than the next expected number ever arrives. The new connection may
  // start a little behind the old one, so a few numbers can come twice around the switch.
  int highest = received.front();
  int backwards = 0;
  for (std::size_t i = 1; i < received.size(); ++i) {
    INFO("at " << i << ": " << received[i - 1] << " -> " << received[i]);
    CHECK(received[i] <= highest + 1);
    if (received[i] <= received[i - 1]) ++backwards;
    highest = std::max(highest, received[i]);
  }
  CHECK(backwards <= 1);  // at most one step back: the switch itself
  rws->stop();
  run_until(ioc, [&] { return server.closed_sessions == 2; });
}

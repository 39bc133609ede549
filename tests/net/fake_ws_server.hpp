// FakeWsServer: a small Beast WebSocket server over TLS on 127.0.0.1 for the net tests. It
// counts accepts, records what clients send (text frames and pongs, with arrival times), and
// lets a test send, ping, broadcast, close or drop each session. Test-only, one io_context.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

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

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& ctx, FakeWsServer& server)
        : ws_(std::move(socket), ctx), server_(server) {}

    void start() {
      ws_.next_layer().async_handshake(boost::asio::ssl::stream_base::server,
                                       [self = shared_from_this()](const boost::system::error_code& ec) {
                                         if (ec) return self->on_error();
                                         self->accept();
                                       });
    }
    void send(std::string text) { push(Out{std::move(text), false}); }
    void ping(std::string payload) { push(Out{std::move(payload), true}); }
    void close(std::string reason) {
      boost::beast::websocket::close_reason cr(boost::beast::websocket::close_code::going_away);
      cr.reason.assign(reason.data(), reason.size());
      ws_.async_close(cr, [self = shared_from_this()](const boost::system::error_code&) { self->on_error(); });
    }
    // Abrupt end: TCP close without WebSocket or TLS goodbye.
    void drop() {
      boost::beast::get_lowest_layer(ws_).close();
      on_error();
    }

    bool open = false;
    bool closed = false;
    std::vector<Event> events;  // texts and pongs from the client, in arrival order
    std::string close_reason;   // the client's, when it closed properly

   private:
    struct Out {
      std::string payload;
      bool ping;
    };
    void accept() {
      ws_.control_callback([this](boost::beast::websocket::frame_type kind, std::string_view payload) {
        if (kind == boost::beast::websocket::frame_type::pong) events.push_back({monotonic_ns(), true, std::string(payload)});
        if (kind == boost::beast::websocket::frame_type::close) {
          close_reason.assign(ws_.reason().reason.data(), ws_.reason().reason.size());
        }
      });
      ws_.async_accept([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return self->on_error();
        self->open = true;
        if (self->server_.on_open) self->server_.on_open(*self);
        self->read();
        self->write();
      });
    }
    void read() {
      ws_.async_read(buffer_, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        if (ec) return self->on_error();
        std::string text = boost::beast::buffers_to_string(self->buffer_.data());
        self->buffer_.consume(self->buffer_.size());
        self->events.push_back({monotonic_ns(), false, text});
        if (self->server_.on_text) self->server_.on_text(*self, text);
        self->read();
      });
    }
    void push(Out out) {
      if (closed) return;
      queue_.push_back(std::move(out));
      write();
    }
    void write() {
      if (writing_ || !open || closed || queue_.empty()) return;
      writing_ = true;
      auto done = [self = shared_from_this()](const boost::system::error_code& ec, std::size_t = 0) {
        self->writing_ = false;
        if (ec) return self->on_error();
        self->queue_.pop_front();
        self->write();
      };
      if (queue_.front().ping) {
        ws_.async_ping(boost::beast::websocket::ping_data(queue_.front().payload.data(), queue_.front().payload.size()),
                       [done](const boost::system::error_code& ec) { done(ec); });
      } else {
        ws_.text(true);
        ws_.async_write(boost::asio::buffer(queue_.front().payload), done);
      }
    }
    void on_error() {
      if (closed) return;
      closed = true;
      open = false;
      ++server_.closed_sessions;
    }

    boost::beast::websocket::stream<boost::beast::ssl_stream<boost::beast::tcp_stream>> ws_;
    FakeWsServer& server_;
    boost::beast::flat_buffer buffer_;
    std::deque<Out> queue_;
    bool writing_ = false;
  };

  FakeWsServer(boost::asio::io_context& ioc, TlsContextPtr tls)
      : ioc_(ioc), tls_(std::move(tls)), acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
  }
  ~FakeWsServer() { stop(); }

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void broadcast(const std::string& text) {
    for (auto& s : sessions) {
      if (s->open) s->send(text);
    }
  }
  void stop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& s : sessions) {
      if (!s->closed) s->drop();
    }
  }

  int accepts = 0;
  int closed_sessions = 0;
  std::vector<std::shared_ptr<Session>> sessions;
  std::function<void(Session&)> on_open;
  std::function<void(Session&, const std::string&)> on_text;

 private:
  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
      if (ec) return;  // acceptor closed
      ++accepts;
      auto session = std::make_shared<Session>(std::move(socket), *tls_, *this);
      sessions.push_back(session);
      session->start();
      accept();
    });
  }

  boost::asio::io_context& ioc_;
  TlsContextPtr tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace tb::net::test

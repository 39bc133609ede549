#include "fakes/fake_ws_server.hpp"

#include <deque>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace tb::net::test {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using boost::system::error_code;

class FakeWsServer::TlsSession final : public FakeWsServer::Session {
 public:
  TlsSession(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& ctx, FakeWsServer& server)
      : ws_(std::move(socket), ctx), server_(server) {}

  void start() {
    ws_.next_layer().async_handshake(boost::asio::ssl::stream_base::server, [self = self()](const error_code& ec) {
      if (ec) return self->on_error();
      self->accept();
    });
  }
  void send(std::string text) override { push(Out{std::move(text), false}); }
  void ping(std::string payload) override { push(Out{std::move(payload), true}); }
  void close(std::string reason) override {
    websocket::close_reason cr(websocket::close_code::going_away);
    cr.reason.assign(reason.data(), reason.size());
    ws_.async_close(cr, [self = self()](const error_code&) { self->on_error(); });
  }
  void drop() override {
    beast::get_lowest_layer(ws_).close();
    on_error();
  }

 private:
  struct Out {
    std::string payload;
    bool ping;
  };
  std::shared_ptr<TlsSession> self() { return std::static_pointer_cast<TlsSession>(shared_from_this()); }

  void accept() {
    ws_.control_callback([this](websocket::frame_type kind, std::string_view payload) {
      if (kind == websocket::frame_type::pong) events.push_back({monotonic_ns(), true, std::string(payload)});
      if (kind == websocket::frame_type::close) close_reason.assign(ws_.reason().reason.data(), ws_.reason().reason.size());
    });
    ws_.async_accept([self = self()](const error_code& ec) {
      if (ec) return self->on_error();
      self->open = true;
      if (self->server_.on_open) self->server_.on_open(*self);
      self->read();
      self->write();
    });
  }
  void read() {
    ws_.async_read(buffer_, [self = self()](const error_code& ec, std::size_t) {
      if (ec) return self->on_error();
      std::string text = beast::buffers_to_string(self->buffer_.data());
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
  // One write in flight (Beast allows one per stream); the queue keeps the order.
  void write() {
    if (writing_ || !open || closed || queue_.empty()) return;
    writing_ = true;
    auto done = [self = self()](const error_code& ec) {
      self->writing_ = false;
      if (ec) return self->on_error();
      self->queue_.pop_front();
      self->write();
    };
    if (queue_.front().ping) {
      ws_.async_ping(websocket::ping_data(queue_.front().payload.data(), queue_.front().payload.size()), done);
    } else {
      ws_.text(true);
      ws_.async_write(boost::asio::buffer(queue_.front().payload),
                      [done](const error_code& ec, std::size_t) { done(ec); });
    }
  }
  void on_error() {
    if (closed) return;
    closed = true;
    open = false;
    ++server_.closed_sessions;
  }

  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws_;
  FakeWsServer& server_;
  beast::flat_buffer buffer_;
  std::deque<Out> queue_;
  bool writing_ = false;
};

FakeWsServer::FakeWsServer(boost::asio::io_context& ioc, TlsContextPtr tls)
    : tls_(std::move(tls)), acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
  accept();
}

FakeWsServer::~FakeWsServer() { stop(); }

void FakeWsServer::broadcast(const std::string& text) {
  for (auto& s : sessions) {
    if (s->open) s->send(text);
  }
}

void FakeWsServer::stop() {
  error_code ec;
  acceptor_.close(ec);
  for (auto& s : sessions) {
    if (!s->closed) s->drop();
  }
}

void FakeWsServer::accept() {
  acceptor_.async_accept([this](const error_code& ec, boost::asio::ip::tcp::socket socket) {
    if (ec) return;  // acceptor closed
    ++accepts;
    // As a real exchange front end does: without it, Nagle holds a reply back until the client's
    // delayed ACK (tens of ms on loopback), which would dominate every round trip measured here.
    error_code ignored;  // a peer already gone fails its first read instead
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    auto session = std::make_shared<TlsSession>(std::move(socket), *tls_, *this);
    sessions.push_back(session);
    session->start();
    accept();
  });
}

}  // namespace tb::net::test

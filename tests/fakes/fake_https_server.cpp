#include "fakes/fake_https_server.hpp"

#include <algorithm>
#include <memory>

#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace tb::net::test {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;

class FakeHttpsServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& ctx, FakeHttpsServer& server, int id)
      : stream_(std::move(socket), ctx), timer_(stream_.get_executor()), server_(server), id_(id) {}

  void start() {
    ++server_.open_connections;
    server_.max_open_connections = std::max(server_.max_open_connections, server_.open_connections);
    stream_.async_handshake(boost::asio::ssl::stream_base::server, [self = shared_from_this()](const error_code& ec) {
      if (ec) return self->finish();
      self->read();
    });
  }

 private:
  void read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](const error_code& ec, std::size_t) {
      if (ec) return self->finish();
      self->on_request();
    });
  }
  // The answer is decided on arrival (so a responder records arrival times), written after the delay.
  void on_request() {
    ++server_.requests;
    server_.methods.emplace_back(request_.method_string());
    server_.targets.emplace_back(request_.target());
    response_ = {};
    response_.version(11);
    response_.result(http::status::ok);
    response_.set(http::field::content_type, "application/json");
    response_.set("X-MBX-USED-WEIGHT-1M", std::to_string(server_.requests));
    response_.keep_alive(true);
    response_.body() = std::string(request_.target());
    if (server_.responder && server_.responder(request_, response_, id_) == Reply::DropConnection) return finish();
    response_.prepare_payload();
    timer_.expires_after(request_.target() == "/slow" ? server_.slow_delay : server_.delay);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec) return self->finish();
      self->respond();
    });
  }
  void respond() {
    http::async_write(stream_, response_, [self = shared_from_this()](const error_code& ec, std::size_t) {
      if (ec) return self->finish();
      if (self->server_.close_after_response) return self->finish();
      self->read();
    });
  }
  void finish() {
    if (done_) return;
    done_ = true;
    --server_.open_connections;
    beast::get_lowest_layer(stream_).close();
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  boost::asio::steady_timer timer_;
  FakeHttpsServer& server_;
  int id_;
  beast::flat_buffer buffer_;
  Request request_;
  Response response_;
  bool done_ = false;
};

FakeHttpsServer::FakeHttpsServer(boost::asio::io_context& ioc, TlsContextPtr tls)
    : tls_(std::move(tls)), acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
  accept();
}

FakeHttpsServer::~FakeHttpsServer() {
  error_code ec;
  acceptor_.close(ec);
}

void FakeHttpsServer::accept() {
  acceptor_.async_accept([this](const error_code& ec, boost::asio::ip::tcp::socket socket) {
    if (ec) return;  // acceptor closed
    ++accepts;
    // As a real exchange front end does: without it, Nagle holds a reply back until the client's
    // delayed ACK (tens of ms on loopback), which would dominate every round trip measured here.
    error_code ignored;  // a peer already gone fails its first read instead
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(socket), *tls_, *this, accepts)->start();
    accept();
  });
}

}  // namespace tb::net::test

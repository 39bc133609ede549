// FakeHttpsServer: a small Beast HTTP/1.1 keep-alive server over TLS on 127.0.0.1 for the pool
// tests. Counts accepts, open connections (and their maximum), requests; can delay responses
// and can close each connection right after answering without saying so (what a server's
// keep-alive timeout looks like to a client). Test-only, one io_context.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "tradingbot/net/tls_context.hpp"

namespace tb::net::test {

class FakeHttpsServer {
 public:
  FakeHttpsServer(boost::asio::io_context& ioc, TlsContextPtr tls)
      : ioc_(ioc), tls_(std::move(tls)), acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
  }
  ~FakeHttpsServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  std::chrono::milliseconds delay{0};        // before each response
  std::chrono::milliseconds slow_delay{2000};  // for target "/slow"
  bool close_after_response = false;          // silently, keeping "Connection: keep-alive"
  int accepts = 0;
  int open_connections = 0;
  int max_open_connections = 0;
  int requests = 0;
  std::vector<std::string> methods;
  std::vector<std::string> targets;  // request targets, in arrival order
  // When set, fills the response (status, body, headers) instead of echoing the target.
  std::function<void(const boost::beast::http::request<boost::beast::http::string_body>&,
                     boost::beast::http::response<boost::beast::http::string_body>&)>
      responder;

 private:
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& ctx, FakeHttpsServer& server)
        : stream_(std::move(socket), ctx), timer_(stream_.get_executor()), server_(server) {}
    void start() {
      ++server_.open_connections;
      server_.max_open_connections = std::max(server_.max_open_connections, server_.open_connections);
      stream_.async_handshake(boost::asio::ssl::stream_base::server,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                if (ec) return self->finish();
                                self->read();
                              });
    }

   private:
    void read() {
      request_ = {};
      boost::beast::http::async_read(stream_, buffer_, request_,
                                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                       if (ec) return self->finish();
                                       self->on_request();
                                     });
    }
    void on_request() {
      ++server_.requests;
      server_.methods.emplace_back(request_.method_string());
      server_.targets.emplace_back(request_.target());
      const auto wait = request_.target() == "/slow" ? server_.slow_delay : server_.delay;
      timer_.expires_after(wait);
      timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return self->finish();
        self->respond();
      });
    }
    void respond() {
      response_ = {};
      response_.version(11);
      response_.result(boost::beast::http::status::ok);
      response_.set(boost::beast::http::field::content_type, "application/json");
      response_.set("X-MBX-USED-WEIGHT-1M", std::to_string(server_.requests));
      response_.keep_alive(true);
      response_.body() = std::string(request_.target());
      if (server_.responder) server_.responder(request_, response_);
      response_.prepare_payload();
      boost::beast::http::async_write(stream_, response_,
                                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                        if (ec) return self->finish();
                                        if (self->server_.close_after_response) {
                                          boost::beast::get_lowest_layer(self->stream_).close();
                                          return self->finish();
                                        }
                                        self->read();
                                      });
    }
    void finish() {
      if (done_) return;
      done_ = true;
      --server_.open_connections;
      boost::beast::get_lowest_layer(stream_).close();
    }

    boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
    boost::asio::steady_timer timer_;
    FakeHttpsServer& server_;
    boost::beast::flat_buffer buffer_;
    boost::beast::http::request<boost::beast::http::string_body> request_;
    boost::beast::http::response<boost::beast::http::string_body> response_;
    bool done_ = false;
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
      if (ec) return;
      ++accepts;
      std::make_shared<Session>(std::move(socket), *tls_, *this)->start();
      accept();
    });
  }

  boost::asio::io_context& ioc_;
  TlsContextPtr tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

}  // namespace tb::net::test

// A raw-socket HTTP/1.1 client for the server tests: sends exact bytes, parses responses with
// Beast's parser, and bounds every wait with a timeout so no test can hang. Test thread only.
#pragma once

// GCC 12 reports -Wnull-dereference inside Asio and (with sanitizers) -Wmaybe-uninitialized
// inside Beast's parser after inlining, all in Boost's own code (see src/http/server.cpp).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#pragma GCC diagnostic pop
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tb::http::test {

using namespace std::chrono_literals;

struct TestResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  std::string connection;
  std::optional<std::size_t> content_length;
  bool keep_alive = true;
};

class TestClient {
 public:
  enum class ReadResult { Data, Closed, Timeout };

  explicit TestClient(std::uint16_t port) : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }

  // False when the server has closed the connection.
  bool send(std::string_view data) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(data.data(), data.size()), ec);
    return !ec;
  }

  // One read, at most `timeout` long; data goes to the internal buffer.
  ReadResult read_some(std::chrono::milliseconds timeout) {
    char chunk[8192];
    std::optional<boost::system::error_code> result;
    std::size_t received = 0;
    socket_.async_read_some(boost::asio::buffer(chunk), [&](const boost::system::error_code& ec, std::size_t n) {
      result = ec;
      received = n;
    });
    io_.restart();
    io_.run_for(timeout);
    if (!result) {
      socket_.cancel();
      io_.restart();
      io_.run();
    }
    if (result && !*result) {
      buffer_.append(chunk, received);
      return ReadResult::Data;
    }
    if (result && *result != boost::asio::error::operation_aborted) {
      closed_ = true;
      return ReadResult::Closed;
    }
    return ReadResult::Timeout;
  }

  // The next complete response, or nullopt when the connection closes or `timeout` passes first.
  std::optional<TestResponse> read_response(bool head_request = false, std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!buffer_.empty()) {
        boost::beast::http::response_parser<boost::beast::http::string_body> parser;
        parser.eager(true);
        parser.body_limit(64 << 20);
        if (head_request) parser.skip(true);
        boost::system::error_code ec;
        const std::size_t used = parser.put(boost::asio::buffer(buffer_.data(), buffer_.size()), ec);
        if (!ec && parser.is_done()) {
          buffer_.erase(0, used);
          const auto& message = parser.get();
          TestResponse response;
          response.status = static_cast<int>(message.result_int());
          response.body = message.body();
          response.content_type = std::string(message[boost::beast::http::field::content_type]);
          response.allow = std::string(message[boost::beast::http::field::allow]);
          response.connection = std::string(message[boost::beast::http::field::connection]);
          if (message.has_content_length()) {
            response.content_length = static_cast<std::size_t>(std::stoull(std::string(message[boost::beast::http::field::content_length])));
          }
          response.keep_alive = message.keep_alive();
          return response;
        }
        if (ec && ec != boost::beast::http::error::need_more) return std::nullopt;
      }
      const auto now = std::chrono::steady_clock::now();
      if (closed_ || now >= deadline) return std::nullopt;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + 1ms;
      if (read_some(left) != ReadResult::Data && closed_) return std::nullopt;
    }
  }

  // True when the server closes the connection within `timeout` (any data is discarded).
  bool wait_closed(std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      read_some(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) + 1ms);
      buffer_.clear();
    }
    return true;
  }

  [[nodiscard]] bool closed() const noexcept { return closed_; }
  std::string& buffered() noexcept { return buffer_; }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  std::string buffer_;
  bool closed_ = false;
};

}  // namespace tb::http::test

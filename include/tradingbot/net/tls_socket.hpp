// TlsSocket: a client TLS connection in which OpenSSL reads and writes the TCP socket itself.
//
// Why not asio::ssl::stream: it runs OpenSSL against a memory BIO pair and moves every record
// through asio's engine and io_op state machine, behind Beast's flat_stream copy. On the order
// path that layering cost 1.2 us from Beast's frame to SSL_write and 2.4 us more from SSL_write to
// the kernel (bench_exchange_order_send, 2026-12-03): more than half of "decision -> bytes handed
// to the socket". Here SSL_write encrypts the record and our BIO hands it to send(MSG_NOSIGNAL)
// inside the same call; asio only waits for readiness when OpenSSL says it would block.
//
// It is a Beast AsyncStream (get_executor, async_read_some, async_write_some) whose next_layer()
// is the TCP socket, so beast::websocket::stream<TlsSocket> works as is: Beast's timeout closes
// the socket (beast_close_socket on a basic_socket), and the WebSocket closing handshake ends in
// async_teardown below (close_notify, then the TCP socket is closed).
//
// Life: construct -> connect next_layer() -> attach() -> configure native_handle() (SNI, host
// check) -> async_handshake -> reads and writes. At most one read and one write operation may be
// outstanding at a time (Beast's rule too). Operations that complete at once still deliver their
// handler through the executor, never inside the initiating call. After the socket is closed,
// every operation fails (the BIO reads the socket's current handle, so a reused descriptor number
// is never touched).
//
// Threading: the io_context's one thread. OpenSSL's per-thread error queue is emptied before an
// I/O call only when something left an error in it, and after every failure is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

namespace tb::net {

class TlsSocket {
 public:
  // The io_context's own executor, not the type-erased any_io_executor of tcp::socket: every
  // completion posted (a TLS write that finished inside its initiating call) and every handler
  // dispatched then goes straight to the scheduler, reusing the thread's handler memory, instead
  // of being wrapped (and allocated) as an any_io_executor function first.
  using next_layer_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
  using executor_type = next_layer_type::executor_type;
  using error_code = boost::system::error_code;

  // The largest plaintext of one TLS record: a write never stages more than this.
  static constexpr std::size_t kMaxRecordPlaintext = 16 * 1024;

  TlsSocket(boost::asio::io_context& ioc, boost::asio::ssl::context& context);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;
  TlsSocket(TlsSocket&&) = delete;  // OpenSSL's BIO points at this object
  TlsSocket& operator=(TlsSocket&&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  next_layer_type& next_layer() noexcept { return socket_; }
  // The connection's SSL handle (SNI, host-name check, verify result). Never null.
  SSL* native_handle() noexcept { return ssl_; }

  // Binds OpenSSL to the connected socket (made non-blocking) as a TLS client.
  void attach(error_code& ec);

  template <class Handler>
  auto async_handshake(Handler&& handler) {
    return start(
        [this](error_code& ec, std::size_t& n) {
          n = 0;
          return handshake_step(ec);
        },
        std::forward<Handler>(handler));
  }

  template <class MutableBufferSequence, class Handler>
  auto async_read_some(const MutableBufferSequence& buffers, Handler&& handler) {
    // Like asio's SSL stream: one TLS read fills the first non-empty buffer.
    boost::asio::mutable_buffer target;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (boost::asio::mutable_buffer b(*it); b.size() != 0) {
        target = b;
        break;
      }
    }
    return start([this, target](error_code& ec, std::size_t& n) { return read_step(target, n, ec); },
                 std::forward<Handler>(handler));
  }

  template <class ConstBufferSequence, class Handler>
  auto async_write_some(const ConstBufferSequence& buffers, Handler&& handler) {
    // One TLS record per call. A single buffer is encrypted in place; several (Beast's frame
    // header + payload) are first copied into the staging buffer, once, so that a retry after
    // "would block" hands OpenSSL the same bytes, as it requires.
    boost::asio::const_buffer source;
    std::size_t buffers_seen = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers); ++it) {
      if (boost::asio::const_buffer b(*it); b.size() != 0) {
        if (buffers_seen++ == 0) source = b;
      }
    }
    if (buffers_seen > 1) {
      const std::size_t staged = boost::asio::buffer_copy(boost::asio::buffer(staging_), buffers);
      source = boost::asio::const_buffer(staging_.data(), staged);
    } else if (source.size() > kMaxRecordPlaintext) {
      source = boost::asio::const_buffer(source.data(), kMaxRecordPlaintext);
    }
    return start([this, source](error_code& ec, std::size_t& n) { return write_step(source, n, ec); },
                 std::forward<Handler>(handler), true);
  }

  // Writing one record now, outside Asio, for the order path (WebSocketClient's direct frames):
  // no composed operation, no posted completion. Only when no asynchronous write is in flight
  // (Beast's pong or close, a queued message), so records never interleave.
  enum class DirectWrite : std::uint8_t {
    written,  // the kernel has the whole record
    busy,     // another write is in flight (or the record is too big): nothing done, write it the Asio way
    pending,  // the socket took part of it: OpenSSL holds the rest, async_flush() must finish it,
              // and any write started meanwhile finishes it first
    failed,   // `ec` says why; the connection is broken
  };
  DirectWrite write_now(boost::asio::const_buffer record, error_code& ec);
  // Completes a `pending` direct record (immediately when there is none).
  template <class Handler>
  auto async_flush(Handler&& handler) {
    return start(
        [this](error_code& ec, std::size_t& n) {
          n = 0;
          return flush_step(ec);
        },
        std::forward<Handler>(handler), true);
  }
  [[nodiscard]] bool write_idle() const noexcept { return writes_in_flight_ == 0 && !direct_pending_; }

  // Sends close_notify if the socket can take it now (no waiting: the caller is closing), then
  // shuts down and closes the TCP socket.
  void shutdown_and_close(error_code& ec);

 private:
  enum class Step : unsigned char { done, want_read, want_write, failed };

  // Drives one operation: try it; on "would block" wait for the socket and try again.
  template <class Attempt>
  struct Operation {
    TlsSocket& socket;
    Attempt attempt;
    bool is_write = false;  // counted in writes_in_flight_ until its handler is called
    bool waited = false;

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      std::size_t n = 0;
      if (!ec) {
        switch (attempt(ec, n)) {
          case Step::want_read:
            waited = true;
            return socket.socket_.async_wait(next_layer_type::wait_read, std::move(self));
          case Step::want_write:
            waited = true;
            return socket.socket_.async_wait(next_layer_type::wait_write, std::move(self));
          case Step::done:
          case Step::failed:
            break;
        }
      }
      if (waited) {
        if (is_write) --socket.writes_in_flight_;
        return self.complete(ec, n);
      }
      // Finished inside the initiating call: the handler runs later, from the executor. The
      // deferred call carries the operation's associated allocator, so its memory comes from
      // where the caller's handler says (net::HandlerArena), not from the heap.
      auto memory = boost::asio::get_associated_allocator(self);
      TlsSocket* const owner = &socket;  // `this` moves with `self`
      const bool write = is_write;
      boost::asio::post(socket.get_executor(),
                        boost::asio::bind_allocator(memory, [self = std::move(self), ec, n, owner, write]() mutable {
                          if (write) --owner->writes_in_flight_;
                          self.complete(ec, n);
                        }));
    }
  };

  template <class Attempt, class Handler>
  auto start(Attempt attempt, Handler&& handler, bool is_write = false) {
    if (is_write) ++writes_in_flight_;
    return boost::asio::async_compose<Handler, void(error_code, std::size_t)>(
        Operation<Attempt>{*this, std::move(attempt), is_write}, handler, socket_);
  }

  Step handshake_step(error_code& ec);
  Step read_step(boost::asio::mutable_buffer target, std::size_t& n, error_code& ec);
  Step write_step(boost::asio::const_buffer source, std::size_t& n, error_code& ec);
  Step flush_step(error_code& ec);  // writes what a pending direct record left
  Step classify(int result, error_code& ec);

  friend struct TlsSocketBio;
  next_layer_type socket_;
  SSL* ssl_ = nullptr;
  int last_errno_ = 0;             // the BIO's last socket error, for the error_code
  std::vector<char> staging_;      // kMaxRecordPlaintext bytes, allocated by attach()
  std::vector<char> direct_rest_;  // a pending direct record's unsent plaintext (kMaxRecordPlaintext)
  std::size_t direct_begin_ = 0;   // [direct_begin_, direct_end_) of direct_rest_ is still to go
  std::size_t direct_end_ = 0;
  bool direct_pending_ = false;
  std::uint32_t writes_in_flight_ = 0;  // asynchronous writes and flushes not yet completed
  bool handshake_done_ = false;
};

// The WebSocket closing handshake's last step (found by Beast through argument-dependent lookup).
void teardown(boost::beast::role_type role, TlsSocket& socket, boost::system::error_code& ec);

template <class TeardownHandler>
void async_teardown(boost::beast::role_type /*role*/, TlsSocket& socket, TeardownHandler&& handler) {
  boost::system::error_code ec;
  socket.shutdown_and_close(ec);
  boost::asio::post(socket.get_executor(), boost::beast::bind_front_handler(std::forward<TeardownHandler>(handler), ec));
}

}  // namespace tb::net

#include "tradingbot/net/tls_socket.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <stdexcept>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

namespace tb::net {

namespace asio = boost::asio;
using boost::system::error_code;

// The BIO between OpenSSL and the socket: plain recv/send on the socket's current descriptor.
// send() carries MSG_NOSIGNAL, so a peer that has gone away is an EPIPE error, never a SIGPIPE
// that would kill the daemon (OpenSSL's own socket BIO uses write()).
struct TlsSocketBio {
  static TlsSocket& owner(BIO* bio) { return *static_cast<TlsSocket*>(BIO_get_data(bio)); }

  // One recv() or send(): EINTR retried, "would block" marked as a retry for OpenSSL, any other
  // error kept for the error_code.
  template <class Transfer, class MarkRetry>
  static int transfer(BIO* bio, Transfer io, MarkRetry mark_retry) {
    BIO_clear_retry_flags(bio);
    TlsSocket& s = owner(bio);
    for (;;) {
      const ssize_t n = io(s.socket_.native_handle());
      if (n >= 0) return static_cast<int>(n);  // read 0: the peer closed TCP (OpenSSL decides what that means)
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        mark_retry(bio);
      } else {
        s.last_errno_ = errno;
      }
      return -1;
    }
  }

  static int write(BIO* bio, const char* data, int size) {
    return transfer(
        bio, [&](int fd) { return ::send(fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL); },
        [](BIO* b) { BIO_set_retry_write(b); });
  }

  static int read(BIO* bio, char* data, int size) {
    return transfer(
        bio, [&](int fd) { return ::recv(fd, data, static_cast<std::size_t>(size), 0); },
        [](BIO* b) { BIO_set_retry_read(b); });
  }

  static long control(BIO* /*bio*/, int command, long /*num*/, void* /*ptr*/) {
    return command == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered here
  }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static const BIO_METHOD* method() {
    static const BIO_METHOD* const m = [] {
      BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tradingbot tls socket");
      if (made == nullptr || BIO_meth_set_write(made, &write) != 1 || BIO_meth_set_read(made, &read) != 1 ||
          BIO_meth_set_ctrl(made, &control) != 1 || BIO_meth_set_create(made, &create) != 1) {
        throw std::runtime_error("tls: cannot create the socket BIO method");
      }
      return made;
    }();
    return m;
  }
};

namespace {
// OpenSSL requires an empty error queue before an I/O call for SSL_get_error to be right; reading
// it is cheaper than clearing it every time.
void prepare_error_queue() noexcept {
  if (ERR_peek_error() != 0) ERR_clear_error();
}
}  // namespace

TlsSocket::TlsSocket(asio::io_context& ioc, asio::ssl::context& context)
    : socket_(ioc), ssl_(SSL_new(context.native_handle())) {
  if (ssl_ == nullptr) throw std::runtime_error("tls: SSL_new failed");
}

TlsSocket::~TlsSocket() { SSL_free(ssl_); }

void TlsSocket::attach(error_code& ec) {
  socket_.non_blocking(true, ec);
  if (ec) return;
  BIO* bio = BIO_new(TlsSocketBio::method());
  if (bio == nullptr) {
    ec = asio::error::no_memory;
    return;
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference, owned by ssl_ from here
  SSL_set_connect_state(ssl_);
  // Read whole socket buffers into OpenSSL instead of one record header + body per recv().
  SSL_set_read_ahead(ssl_, 1);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  staging_.resize(kMaxRecordPlaintext);
  direct_rest_.resize(kMaxRecordPlaintext);
}

TlsSocket::Step TlsSocket::handshake_step(error_code& ec) {
  prepare_error_queue();
  const int r = SSL_connect(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    return Step::done;
  }
  return classify(r, ec);
}

TlsSocket::Step TlsSocket::read_step(asio::mutable_buffer target, std::size_t& n, error_code& ec) {
  n = 0;
  if (target.size() == 0) return Step::done;
  prepare_error_queue();
  if (SSL_read_ex(ssl_, target.data(), target.size(), &n) == 1) return Step::done;
  return classify(0, ec);
}

TlsSocket::Step TlsSocket::write_step(asio::const_buffer source, std::size_t& n, error_code& ec) {
  n = 0;
  // A direct record the socket only took part of goes first: OpenSSL holds its encrypted rest
  // and would send that in place of `source` (it checks the length of a retry, not the bytes).
  if (const Step flushed = flush_step(ec); flushed != Step::done) return flushed;
  if (source.size() == 0) return Step::done;
  prepare_error_queue();
  if (SSL_write_ex(ssl_, source.data(), source.size(), &n) == 1) return Step::done;
  return classify(0, ec);
}

TlsSocket::Step TlsSocket::flush_step(error_code& ec) {
  while (direct_pending_) {
    std::size_t n = 0;
    prepare_error_queue();
    // The same bytes as the interrupted call (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER: from our copy).
    if (SSL_write_ex(ssl_, direct_rest_.data() + direct_begin_, direct_end_ - direct_begin_, &n) != 1) {
      return classify(0, ec);
    }
    direct_begin_ += n;
    direct_pending_ = direct_begin_ < direct_end_;
  }
  return Step::done;
}

TlsSocket::DirectWrite TlsSocket::write_now(asio::const_buffer record, error_code& ec) {
  if (writes_in_flight_ != 0 || direct_pending_ || !handshake_done_ || record.size() > kMaxRecordPlaintext) {
    return DirectWrite::busy;
  }
  if (record.size() == 0) return DirectWrite::written;
  std::size_t n = 0;
  prepare_error_queue();
  if (SSL_write_ex(ssl_, record.data(), record.size(), &n) == 1 && n == record.size()) return DirectWrite::written;
  // Not all of it: a record the socket took in part (OpenSSL keeps the rest and wants the same
  // bytes again), or, with a peer that negotiated smaller records, whole records then a stop.
  const Step step = n != 0 ? Step::want_write : classify(0, ec);
  if (step == Step::failed) return DirectWrite::failed;
  const auto* bytes = static_cast<const char*>(record.data());
  std::copy(bytes + n, bytes + record.size(), direct_rest_.begin());
  direct_begin_ = 0;
  direct_end_ = record.size() - n;
  direct_pending_ = true;
  return DirectWrite::pending;
}

TlsSocket::Step TlsSocket::classify(int result, error_code& ec) {
  const int kind = SSL_get_error(ssl_, result);
  if (kind == SSL_ERROR_WANT_READ) return Step::want_read;
  if (kind == SSL_ERROR_WANT_WRITE) return Step::want_write;
  const unsigned long queued = ERR_get_error();
  if (kind == SSL_ERROR_ZERO_RETURN) {
    ec = asio::error::eof;  // the peer's close_notify
  } else if (queued != 0) {
    // OpenSSL 3 reports a TCP close without close_notify as an "unexpected eof" error.
    ec = ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING
             ? error_code(asio::ssl::error::stream_truncated)
             : error_code(static_cast<int>(queued), asio::error::get_ssl_category());
  } else if (kind == SSL_ERROR_SYSCALL && last_errno_ != 0) {
    ec = error_code(last_errno_, boost::system::system_category());
  } else if (kind == SSL_ERROR_SYSCALL) {
    ec = asio::ssl::error::stream_truncated;  // EOF with nothing else said
  } else {
    ec = asio::ssl::error::unspecified_system_error;
  }
  last_errno_ = 0;
  ERR_clear_error();
  return Step::failed;
}

void TlsSocket::shutdown_and_close(error_code& ec) {
  if (handshake_done_ && socket_.is_open()) {
    prepare_error_queue();
    (void)SSL_shutdown(ssl_);  // queues close_notify and sends it if the socket takes it now
    ERR_clear_error();
  }
  error_code ignored;
  socket_.shutdown(next_layer_type::shutdown_both, ignored);
  socket_.close(ec);
}

void teardown(boost::beast::role_type /*role*/, TlsSocket& socket, error_code& ec) { socket.shutdown_and_close(ec); }

}  // namespace tb::net

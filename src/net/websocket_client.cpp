#include "tradingbot/net/websocket_client.hpp"

#include <boost/asio/bind_allocator.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/websocket.hpp>

#include <openssl/rand.h>
#include <openssl/x509.h>

namespace tb::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

namespace {

asio::steady_timer::time_point to_steady(Nanos monotonic) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(monotonic));
}

std::chrono::nanoseconds to_duration(Nanos ns) { return std::chrono::nanoseconds(ns); }

}  // namespace

std::string_view close_cause_name(CloseCause cause) noexcept {
  switch (cause) {
    case CloseCause::local: return "local";
    case CloseCause::remote: return "remote";
    case CloseCause::connect_failed: return "connect_failed";
    case CloseCause::timeout: return "timeout";
    case CloseCause::liveness_timeout: return "liveness_timeout";
    case CloseCause::io_error: return "io_error";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// WebSocketClient

std::shared_ptr<WebSocketClient> WebSocketClient::create(asio::io_context& ioc, TlsContextPtr tls,
                                                         WebSocketOptions options) {
  return std::shared_ptr<WebSocketClient>(new WebSocketClient(ioc, std::move(tls), std::move(options)));
}

WebSocketClient::WebSocketClient(asio::io_context& ioc, TlsContextPtr tls, WebSocketOptions options)
    : ioc_(ioc),
      tls_(std::move(tls)),
      options_(std::move(options)),
      resolver_(ioc),
      ws_(ioc, *tls_),
      phase_timer_(ioc),
      liveness_timer_(ioc),
      pace_timer_(ioc),
      buffer_(options_.max_message_size + kReceivePadding),
      read_arena_(stats_.read_heap_allocations),  // only the counters' addresses: stats_ comes later
      write_arena_(stats_.write_heap_allocations),
      queue_(options_.send_queue_limit),
      pacer_(options_.control_max_per_window, options_.control_window) {
  buffer_.reserve(options_.initial_buffer + kReceivePadding);
  frame_.resize(TlsSocket::kMaxRecordPlaintext);
  ws_.read_message_max(options_.max_message_size);
  ws_.auto_fragment(false);
}

WebSocketClient::~WebSocketClient() = default;

void WebSocketClient::connect() {
  if (state_ != State::idle) return;
  do_resolve();
}

void WebSocketClient::do_resolve() {
  state_ = State::resolving;
  arm_phase_deadline(options_.resolve_timeout, "resolve");
  const std::string& target_host = options_.connect_host.empty() ? options_.host : options_.connect_host;
  resolver_.async_resolve(target_host, std::to_string(options_.port),
                          [self = shared_from_this()](const error_code& ec, Tcp::resolver::results_type results) {
                            self->on_resolve(ec, results);
                          });
}

void WebSocketClient::on_resolve(const error_code& ec, const Tcp::resolver::results_type& results) {
  if (state_ != State::resolving) return;
  if (ec) return fail(ec, "resolve");
  state_ = State::connecting;
  arm_phase_deadline(options_.connect_timeout, "tcp connect");
  asio::async_connect(ws_.next_layer().next_layer(), results,
                      [self = shared_from_this()](const error_code& e, const Tcp::endpoint&) { self->on_connect(e); });
}

void WebSocketClient::on_connect(const error_code& ec) {
  if (state_ != State::connecting) return;
  if (ec) return fail(ec, "tcp connect");
  TlsSocket& tls = ws_.next_layer();
  error_code attach_error;
  tls.next_layer().set_option(Tcp::no_delay(true), attach_error);
  if (!attach_error) tls.attach(attach_error);
  if (attach_error) return fail(attach_error, "tcp connect");
  if (!configure_client_ssl(tls.native_handle(), options_.host)) {
    return finish(CloseCause::connect_failed, "tls: cannot set SNI / host-name check for " + options_.host);
  }
  state_ = State::tls_handshake;
  arm_phase_deadline(options_.tls_handshake_timeout, "tls handshake");
  tls.async_handshake([self = shared_from_this()](const error_code& e, std::size_t) { self->on_tls_handshake(e); });
}

void WebSocketClient::on_tls_handshake(const error_code& ec) {
  if (state_ != State::tls_handshake) return;
  if (ec) return fail(ec, "tls handshake");
  state_ = State::ws_handshake;
  arm_phase_deadline(options_.ws_handshake_timeout, "websocket handshake");

  // Beast's own timer bounds the closing handshake; the opening one is under phase_timer_.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = to_duration(std::max(options_.close_timeout, options_.ws_handshake_timeout));
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [agent = options_.user_agent](websocket::request_type& req) { req.set(beast::http::field::user_agent, agent); }));
  ws_.control_callback([this](websocket::frame_type kind, std::string_view payload) {
    on_control_frame(kind, payload);
  });
  std::string host_header = options_.host;
  if (options_.port != 443) host_header += ":" + std::to_string(options_.port);
  ws_.async_handshake(host_header, options_.target,
                      [self = shared_from_this()](const error_code& e) { self->on_ws_handshake(e); });
}

void WebSocketClient::on_ws_handshake(const error_code& ec) {
  if (state_ != State::ws_handshake) return;
  if (ec) return fail(ec, "websocket handshake");
  phase_timer_.cancel();
  state_ = State::open;
  const Nanos now = monotonic_ns();
  stats_.connected_at = now;
  stats_.last_frame_at = now;
  arm_liveness();
  do_read();
  if (on_open_) on_open_();
  do_write();
}

void WebSocketClient::do_read() {
  // Every market-data message completes a read: its Asio memory comes from read_arena_.
  ws_.async_read(buffer_, asio::bind_allocator(HandlerArenaAllocator<void>(read_arena_),
                                               [self = shared_from_this()](const error_code& ec, std::size_t bytes) {
                                                 self->on_read(ec, bytes);
                                               }));
}

void WebSocketClient::on_read(const error_code& ec, std::size_t bytes) {
  if (state_ != State::open) return;  // closing: on_close finishes; closed: nothing to do
  if (ec == websocket::error::closed) {
    const auto& reason = ws_.reason();
    return finish(CloseCause::remote, "server closed (code " + std::to_string(reason.code) + "): " +
                                          std::string(reason.reason.data(), reason.reason.size()));
  }
  if (ec) return fail(ec, "read");

  const Nanos now = monotonic_ns();
  stats_.last_frame_at = now;
  ++stats_.messages_received;
  stats_.bytes_received += bytes;
  // Zeroed slack after the payload for simdjson; prepare() may move the readable bytes, so the
  // view is taken afterwards. Capacity stays, so this allocates only while the buffer grows.
  auto pad = buffer_.prepare(kReceivePadding);
  std::memset(pad.data(), 0, kReceivePadding);
  const auto data = buffer_.data();
  WsMessage message{std::string_view(static_cast<const char*>(data.data()), data.size()), ws_.got_text(), now,
                    wall_clock_ns()};
  if (on_message_) on_message_(message);
  buffer_.consume(buffer_.size());
  if (state_ == State::open) do_read();
}

void WebSocketClient::on_control_frame(websocket::frame_type kind, std::string_view /*payload*/) {
  const Nanos now = monotonic_ns();
  stats_.last_frame_at = now;
  ++stats_.control_frames_received;
  if (kind == websocket::frame_type::ping) {
    // Beast writes the pong (same payload) right after this callback; it spends pacing budget.
    pacer_.record_forced(now);
    ++stats_.pongs_sent;
  }
}

SendStatus WebSocketClient::send(std::string_view payload, Pacing pacing, bool binary) {
  return enqueue(payload, binary ? OutKind::binary : OutKind::text, pacing);
}

SendStatus WebSocketClient::ping(std::string_view payload) {
  return enqueue(payload.substr(0, 125), OutKind::ping, Pacing::paced);  // RFC 6455: control payload <= 125 bytes
}

SendStatus WebSocketClient::enqueue(std::string_view payload, OutKind kind, Pacing pacing) {
  if (state_ == State::closing || state_ == State::closed) return SendStatus::not_open;
  if (kind != OutKind::ping && try_send_now(payload, kind == OutKind::text, pacing)) return SendStatus::queued;
  if (queued_ >= queue_.size()) {
    ++stats_.send_queue_rejected;
    return SendStatus::queue_full;
  }
  Outgoing& slot = queue_[(queue_head_ + queued_) % queue_.size()];
  slot.payload.assign(payload);  // reuses the slot's buffer
  slot.kind = kind;
  slot.pacing = pacing;
  ++queued_;
  do_write();
  return SendStatus::queued;
}

void WebSocketClient::do_write() {
  if (writing_ || state_ != State::open || queued_ == 0) return;
  Outgoing& head = queue_[queue_head_];
  const Nanos now = monotonic_ns();
  if (head.pacing == Pacing::paced) {
    const Nanos at = pacer_.next_allowed(now);
    if (at > now) {
      if (!pace_timer_armed_) {
        pace_timer_armed_ = true;
        pace_timer_.expires_at(to_steady(at));
        pace_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
          self->pace_timer_armed_ = false;
          if (!ec) self->do_write();
        });
      }
      return;
    }
  }
  pacer_.record(now);  // unpaced sends still count: the exchange counts every message
  writing_ = true;
  // The write chain's Asio memory comes from write_arena_ (one write in flight), not malloc.
  const HandlerArenaAllocator<void> memory(write_arena_);
  if (head.kind == OutKind::ping) {
    ws_.async_ping(websocket::ping_data(head.payload.data(), head.payload.size()),
                   asio::bind_allocator(memory, [self = shared_from_this()](const error_code& ec) { self->on_write(ec, 0); }));
  } else {
    ws_.text(head.kind == OutKind::text);
    ws_.async_write(asio::buffer(head.payload),
                    asio::bind_allocator(memory, [self = shared_from_this()](const error_code& ec, std::size_t bytes) {
                      self->on_write(ec, bytes);
                    }));
  }
}

namespace {
// out = payload XOR the masking key repeated (RFC 6455 section 5.3), eight bytes at a time.
void mask_copy(unsigned char* out, std::string_view payload, std::uint32_t key) noexcept {
  const std::uint64_t key8 = static_cast<std::uint64_t>(key) | (static_cast<std::uint64_t>(key) << 32);
  const auto* in = reinterpret_cast<const unsigned char*>(payload.data());
  const std::size_t n = payload.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, in + i, sizeof v);
    v ^= key8;
    std::memcpy(out + i, &v, sizeof v);
  }
  unsigned char key_bytes[4];
  std::memcpy(key_bytes, &key, sizeof key);
  for (; i < n; ++i) out[i] = static_cast<unsigned char>(in[i] ^ key_bytes[i % 4]);
}
}  // namespace

bool WebSocketClient::MaskKeys::refill() noexcept {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(keys_.data()), static_cast<int>(sizeof keys_)) != 1) return false;
  next_ = 0;
  count_ = kKeys;
  return true;
}

bool WebSocketClient::try_send_now(std::string_view payload, bool text, Pacing pacing) {
  // Only with nothing of ours queued or in flight (order of messages) and the stream open (Beast
  // has neither sent nor received a close); TlsSocket::write_now adds "no write of Beast's in
  // flight" (a pong, a close).
  if (state_ != State::open || writing_ || queued_ != 0 || !ws_.is_open()) return false;
  if (payload.size() + kMaxFrameHeader > TlsSocket::kMaxRecordPlaintext) return false;
  const Nanos now = monotonic_ns();
  if (pacing == Pacing::paced && pacer_.next_allowed(now) > now) return false;
  std::uint32_t mask = 0;
  if (!masks_.next(mask)) return false;  // no fresh randomness: Beast's own path masks it

  // RFC 6455 section 5.2: FIN + opcode, MASK + payload length, the masking key, masked payload.
  auto* out = reinterpret_cast<unsigned char*>(frame_.data());
  std::size_t at = 0;
  out[at++] = static_cast<unsigned char>(0x80U | (text ? 0x1U : 0x2U));
  const std::size_t n = payload.size();
  if (n < 126) {
    out[at++] = static_cast<unsigned char>(0x80U | n);
  } else {  // <= 16 KB here: the 16-bit form
    out[at++] = 0x80U | 126U;
    out[at++] = static_cast<unsigned char>(n >> 8);
    out[at++] = static_cast<unsigned char>(n & 0xFFU);
  }
  std::memcpy(out + at, &mask, sizeof mask);
  at += sizeof mask;
  mask_copy(out + at, payload, mask);
  at += n;

  error_code ec;
  switch (ws_.next_layer().write_now(asio::const_buffer(out, at), ec)) {
    case TlsSocket::DirectWrite::busy:
      return false;
    case TlsSocket::DirectWrite::written:
      break;
    case TlsSocket::DirectWrite::pending:
      // The rest goes out when the socket drains; until then this connection writes nothing
      // else (writing_), and a pong Beast starts meanwhile finishes this record first.
      writing_ = true;
      ++stats_.direct_writes_pending;
      ws_.next_layer().async_flush(asio::bind_allocator(
          HandlerArenaAllocator<void>(write_arena_),
          [self = shared_from_this()](const error_code& e, std::size_t) { self->on_direct_flushed(e); }));
      break;
    case TlsSocket::DirectWrite::failed:
      // As a failed asynchronous write: the connection ends (from the executor, not inside the
      // caller's send()), and the message is lost with it.
      asio::post(ioc_, [self = shared_from_this(), ec] {
        if (self->state_ == State::open) self->fail(ec, "write");
      });
      return true;
  }
  pacer_.record(now);
  ++stats_.messages_sent;
  ++stats_.direct_writes;
  stats_.bytes_sent += n;
  masks_.refill_if_low();  // after the bytes left: keeps the randomness off the next send's path
  return true;
}

void WebSocketClient::on_direct_flushed(const error_code& ec) {
  writing_ = false;
  if (state_ != State::open) return;
  if (ec) return fail(ec, "write");
  do_write();
}

void WebSocketClient::on_write(const error_code& ec, std::size_t /*bytes*/) {
  writing_ = false;
  if (state_ != State::open) return;
  if (ec) return fail(ec, "write");
  const Outgoing& done = queue_[queue_head_];
  if (done.kind == OutKind::ping) {
    ++stats_.pings_sent;
  } else {
    ++stats_.messages_sent;
    stats_.bytes_sent += done.payload.size();
  }
  queue_head_ = (queue_head_ + 1) % queue_.size();
  --queued_;
  do_write();
}

void WebSocketClient::close(std::string reason) {
  switch (state_) {
    case State::closing:
    case State::closed:
      return;
    case State::open:
      break;
    default:  // still connecting: abandon the attempt
      return finish(CloseCause::local, std::move(reason));
  }
  state_ = State::closing;
  close_message_ = std::move(reason);
  liveness_timer_.cancel();
  pace_timer_.cancel();
  arm_phase_deadline(options_.close_timeout + kNanosPerSecond / 2, "close handshake");  // backstop
  websocket::close_reason cr(websocket::close_code::normal);
  cr.reason.assign(close_message_.data(), std::min<std::size_t>(close_message_.size(), cr.reason.max_size()));
  ws_.async_close(cr, [self = shared_from_this()](const error_code& ec) { self->on_close(ec); });
}

void WebSocketClient::on_close(const error_code& ec) {
  if (state_ != State::closing) return;
  // A failed close handshake still ends the connection the caller asked to end.
  finish(CloseCause::local, ec ? close_message_ + " (close handshake: " + ec.message() + ")" : close_message_);
}

void WebSocketClient::arm_phase_deadline(Nanos timeout, const char* phase) {
  phase_timer_.expires_after(to_duration(timeout));
  const State armed_in = state_;
  phase_timer_.async_wait([self = shared_from_this(), armed_in, phase](const error_code& ec) {
    // A stale expiry (the phase finished just as the timer fired) sees a different state.
    if (ec || self->state_ != armed_in) return;
    self->finish(CloseCause::timeout, std::string(phase) + " timed out");
  });
}

void WebSocketClient::arm_liveness() {
  if (options_.liveness_timeout <= 0) return;
  liveness_timer_.expires_at(to_steady(stats_.last_frame_at + options_.liveness_timeout));
  liveness_timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->on_liveness_check(ec); });
}

void WebSocketClient::on_liveness_check(const error_code& ec) {
  if (ec || state_ != State::open) return;
  // Frames only move last_frame_at forward; the timer is re-armed here instead of per frame.
  if (monotonic_ns() - stats_.last_frame_at >= options_.liveness_timeout) {
    return finish(CloseCause::liveness_timeout,
                  "no frame for " + std::to_string(options_.liveness_timeout / kNanosPerMilli) + " ms");
  }
  arm_liveness();
}

void WebSocketClient::fail(const error_code& ec, const char* what) {
  if (state_ == State::closed) return;
  CloseCause cause = state_ < State::open ? CloseCause::connect_failed : CloseCause::io_error;
  if (ec == beast::error::timeout) cause = CloseCause::timeout;
  std::string message = std::string(what) + ": " + ec.message();
  if (state_ == State::tls_handshake) {
    const long verify = SSL_get_verify_result(ws_.next_layer().native_handle());
    if (verify != X509_V_OK) message += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  }
  finish(cause, std::move(message));
}

void WebSocketClient::finish(CloseCause cause, std::string message) {
  if (state_ == State::closed) return;
  // on_closed may drop the owner's last reference; stay alive until this function returns.
  const auto keep_alive = shared_from_this();
  const bool was_open = state_ == State::open || state_ == State::closing;
  state_ = State::closed;
  phase_timer_.cancel();
  liveness_timer_.cancel();
  pace_timer_.cancel();
  resolver_.cancel();
  error_code ignored;
  beast::get_lowest_layer(ws_).close(ignored);  // aborts whatever is still pending
  on_open_ = nullptr;
  on_message_ = nullptr;
  auto handler = std::move(on_closed_);
  on_closed_ = nullptr;
  if (handler) handler(CloseReason{cause, std::move(message), was_open});
}

// ---------------------------------------------------------------------------------------------
// ReconnectingWebSocket

std::shared_ptr<ReconnectingWebSocket> ReconnectingWebSocket::create(asio::io_context& ioc, TlsContextPtr tls,
                                                                     ReconnectingOptions options) {
  return std::shared_ptr<ReconnectingWebSocket>(new ReconnectingWebSocket(ioc, std::move(tls), std::move(options)));
}

ReconnectingWebSocket::ReconnectingWebSocket(asio::io_context& ioc, TlsContextPtr tls, ReconnectingOptions options)
    : ioc_(ioc),
      tls_(std::move(tls)),
      options_(std::move(options)),
      backoff_(options_.backoff, options_.backoff_seed),
      reconnect_timer_(ioc),
      rotation_timer_(ioc) {}

void ReconnectingWebSocket::start() {
  if (!stopped_) return;
  stopped_ = false;
  connect_active();
}

void ReconnectingWebSocket::stop(std::string reason) {
  stopped_ = true;
  reconnect_timer_.cancel();
  rotation_timer_.cancel();
  if (standby_) std::exchange(standby_, nullptr)->close(reason);
  if (active_) std::exchange(active_, nullptr)->close(reason);
}

SendStatus ReconnectingWebSocket::send(std::string_view payload, Pacing pacing) {
  return active_ ? active_->send(payload, pacing) : SendStatus::not_open;
}

std::shared_ptr<WebSocketClient> ReconnectingWebSocket::make_client() {
  auto client = WebSocketClient::create(ioc_, tls_, options_.ws);
  WebSocketClient* raw = client.get();
  std::weak_ptr<ReconnectingWebSocket> weak = weak_from_this();
  client->on_open([weak, raw] {
    auto self = weak.lock();
    if (!self) return;
    ++self->stats_.connects;
    const bool standby = raw == self->standby_.get();
    if (standby) {
      self->standby_opened_at_ = monotonic_ns();
    } else {
      self->active_opened_at_ = monotonic_ns();
      self->arm_rotation_timer();
    }
    if (self->on_open_) self->on_open_(*raw, standby);
  });
  client->on_message([weak, raw](const WsMessage& message) {
    auto self = weak.lock();
    if (!self) return;
    if (raw == self->active_.get()) {
      self->on_active_message(message);
    } else if (raw == self->standby_.get()) {
      self->on_standby_first_message(message);
    }  // else: the old connection of a finished rotation, already replaced
  });
  client->on_closed([weak, raw](const CloseReason& reason) {
    auto self = weak.lock();
    if (!self) return;
    if (raw == self->standby_.get()) {
      self->standby_.reset();
      ++self->stats_.rotation_failures;
      self->next_rotation_at_ = monotonic_ns() + self->options_.rotation_timeout;
      self->arm_rotation_timer();
      return;
    }
    if (raw != self->active_.get()) return;  // old connection after a switch
    self->active_.reset();
    if (self->stopped_) return;
    if (self->standby_) {
      // The old connection died mid-rotation: the standby takes over at once.
      self->active_ = std::exchange(self->standby_, nullptr);
      self->active_opened_at_ = monotonic_ns();
      self->active_had_message_ = false;
      if (self->on_disconnected_) self->on_disconnected_(reason, 0);
      return;
    }
    self->schedule_reconnect(reason);
  });
  return client;
}

void ReconnectingWebSocket::connect_active() {
  active_ = make_client();
  active_had_message_ = false;
  active_->connect();
}

void ReconnectingWebSocket::on_active_message(const WsMessage& message) {
  ++stats_.messages;
  stats_.bytes += message.payload.size();
  stats_.last_message_at = message.received_mono_ns;
  active_had_message_ = true;
  if (backoff_.attempts() > 0 && message.received_mono_ns - active_opened_at_ >= options_.healthy_after) {
    backoff_.reset();  // this connection has proved healthy
  }
  if (on_message_) on_message_(message);
}

void ReconnectingWebSocket::on_standby_first_message(const WsMessage& message) {
  auto old = std::exchange(active_, std::exchange(standby_, nullptr));
  active_opened_at_ = standby_opened_at_ != 0 ? standby_opened_at_ : message.received_mono_ns;
  active_had_message_ = false;
  ++stats_.rotations;
  next_rotation_at_ = 0;
  arm_rotation_timer();
  on_active_message(message);
  if (old) old->close("rotated to a new connection");
}

void ReconnectingWebSocket::rotate() {
  if (stopped_ || standby_ || !active_ || !active_->is_open()) return;
  standby_ = make_client();
  standby_started_at_ = monotonic_ns();
  standby_opened_at_ = 0;
  standby_->connect();
  arm_rotation_timer();
}

void ReconnectingWebSocket::arm_rotation_timer() {
  if (stopped_) return;
  Nanos due = 0;
  if (standby_) {
    due = standby_started_at_ + options_.rotation_timeout;
  } else if (active_ && options_.max_connection_age > 0 && active_opened_at_ != 0) {
    due = std::max(active_opened_at_ + options_.max_connection_age, next_rotation_at_);
  } else {
    rotation_timer_.cancel();
    return;
  }
  rotation_timer_.expires_at(to_steady(due));
  rotation_timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->stopped_) return;
    const Nanos now = monotonic_ns();
    if (self->standby_) {
      if (now - self->standby_started_at_ >= self->options_.rotation_timeout) {
        self->standby_->close("rotation timed out");  // its on_closed counts the failure
      } else {
        self->arm_rotation_timer();
      }
      return;
    }
    self->rotate();
    if (!self->standby_) self->arm_rotation_timer();
  });
}

void ReconnectingWebSocket::schedule_reconnect(const CloseReason& reason) {
  // Healthy = it delivered data and stayed up for healthy_after (a quiet stream included).
  if (active_had_message_ && active_opened_at_ != 0 && monotonic_ns() - active_opened_at_ >= options_.healthy_after) {
    backoff_.reset();
  }
  active_opened_at_ = 0;
  const Nanos delay = backoff_.next_delay();
  ++stats_.reconnects;
  stats_.next_reconnect_delay = delay;
  if (on_disconnected_) on_disconnected_(reason, delay);
  if (stopped_) return;  // the handler may have stopped us
  reconnect_timer_.expires_after(to_duration(delay));
  reconnect_timer_.async_wait([weak = weak_from_this()](const error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->stopped_) return;
    self->connect_active();
  });
}

}  // namespace tb::net

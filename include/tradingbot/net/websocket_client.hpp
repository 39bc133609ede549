// WebSocket over TLS for the exchange streams (market data, WS API). Transport only: payloads are
// opaque bytes; nothing here knows Binance's JSON.
//
// WebSocketClient is ONE connection attempt and its life: resolve -> TCP connect -> TLS handshake
// (SNI, verify_peer, host-name verification) -> WebSocket handshake on `target`, each phase under
// its own deadline; then a read loop that hands every text/binary message to on_message, and
// sends (below) with a bounded queue behind them. It never reconnects: when it ends, on_closed
// fires exactly once with the reason, and the owner makes a new one (ReconnectingWebSocket below
// does that with Backoff and also rotates connections before Binance's 24 h cut).
//
// Receive buffer and simdjson: WsMessage::payload points into the client's reused receive buffer
// and is valid only during the on_message call. At least kReceivePadding (64 = SIMDJSON_PADDING)
// readable, zeroed bytes follow the payload inside the same allocation, so a consumer may call
// `parser.iterate(payload.data(), payload.size(), payload.size() + kReceivePadding)` without a
// copy. Once the buffer has grown to the largest message, no allocation happens per message.
//
// Sending: when the connection is write-idle (nothing of ours queued or in flight, no write of
// Beast's in flight) send() frames the message itself (RFC 6455 client frame, masking key from
// OpenSSL's CSPRNG) and hands it to TlsSocket::write_now as one TLS record: the order path's
// bytes reach the kernel inside send(), without Beast's composed write or a posted completion.
// Otherwise, or when the message is over one record, it waits in the queue and Beast writes it.
// Beast still writes pongs and the close; TlsSocket keeps the two kinds of record from ever
// interleaving (a record the socket took only part of is finished before anything else).
//
// Pings and pacing: Beast answers every server ping with a pong carrying the same payload while
// a read is pending (Binance pings every 20 s and drops us after 1 min without a pong). Each such
// pong is recorded in the ControlPacer, which paces our own text frames and pings (default 4 per
// second; Binance disconnects above 5 messages/s counting pings and pongs). Liveness: if no frame
// at all (data, ping, pong, close) arrives for `liveness_timeout`, the connection is dead.
//
// Threading: everything runs on the caller's io_context (the trading thread): create, connect,
// send and close must be called on that thread, and every callback runs on it. No locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/net/backoff.hpp"
#include "tradingbot/net/control_pacer.hpp"
#include "tradingbot/net/tls_context.hpp"
#include "tradingbot/net/handler_arena.hpp"
#include "tradingbot/net/tls_socket.hpp"

namespace tb::net {

inline constexpr std::size_t kReceivePadding = 64;  // == SIMDJSON_PADDING

struct WebSocketOptions {
  std::string host;           // DNS name (SNI + certificate check) or IP literal
  std::uint16_t port = 443;
  std::string target = "/";   // "/stream?streams=btcusdt@bookTicker/ethusdt@depth@100ms"
  std::string connect_host;   // resolve this instead of `host` when set (tests, pinned IPs)
  Nanos resolve_timeout = 5 * kNanosPerSecond;
  Nanos connect_timeout = 5 * kNanosPerSecond;
  Nanos tls_handshake_timeout = 5 * kNanosPerSecond;
  Nanos ws_handshake_timeout = 5 * kNanosPerSecond;
  Nanos close_timeout = 2 * kNanosPerSecond;
  Nanos liveness_timeout = 60 * kNanosPerSecond;  // 0 = off; Binance pings every 20 s
  std::size_t control_max_per_window = 4;         // 0 = no pacing
  Nanos control_window = kNanosPerSecond;
  std::size_t send_queue_limit = 64;
  std::size_t max_message_size = 16 * 1024 * 1024;
  std::size_t initial_buffer = 64 * 1024;
  std::string user_agent = "tradingbot";
};

struct WsMessage {
  std::string_view payload;  // kReceivePadding readable zero bytes follow payload.end()
  bool text = true;
  Nanos received_mono_ns = 0;
  Nanos received_wall_ns = 0;  // for captures (receive_unix_ns)
};

enum class CloseCause : std::uint8_t {
  local,             // close() was called
  remote,            // the server sent a close frame (reason in `message`)
  connect_failed,    // resolve / TCP / TLS / WebSocket handshake failed (incl. certificates)
  timeout,           // a connect phase or the close handshake missed its deadline
  liveness_timeout,  // no frame for liveness_timeout
  io_error,          // read/write failed (peer reset, EOF without close frame, ...)
};
[[nodiscard]] std::string_view close_cause_name(CloseCause cause) noexcept;

struct CloseReason {
  CloseCause cause = CloseCause::local;
  std::string message;    // human-readable: phase + error, or the peer's close reason
  bool was_open = false;  // the WebSocket handshake had completed
};

struct WebSocketStats {
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t control_frames_received = 0;  // pings, pongs, close
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t pings_sent = 0;
  std::uint64_t pongs_sent = 0;          // automatic answers to server pings
  std::uint64_t send_queue_rejected = 0;
  std::uint64_t direct_writes = 0;           // messages framed and written in send() itself
  std::uint64_t direct_writes_pending = 0;   // ...of which the socket took only part at once
  std::uint64_t read_heap_allocations = 0;   // read-operation memory that missed its HandlerArena (live)
  std::uint64_t write_heap_allocations = 0;  // write-operation memory that missed its HandlerArena (live)
  Nanos connected_at = 0;                // monotonic, 0 until open
  Nanos last_frame_at = 0;               // monotonic, any frame
};

enum class SendStatus : std::uint8_t { queued, queue_full, not_open };
enum class Pacing : std::uint8_t { paced, unpaced };

class WebSocketClient : public std::enable_shared_from_this<WebSocketClient> {
 public:
  using OpenHandler = std::function<void()>;
  using MessageHandler = std::function<void(const WsMessage&)>;
  using CloseHandler = std::function<void(const CloseReason&)>;

  [[nodiscard]] static std::shared_ptr<WebSocketClient> create(boost::asio::io_context& ioc,
                                                               TlsContextPtr tls,
                                                               WebSocketOptions options);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // Set before connect(). Handlers may call send()/close() re-entrantly.
  void on_open(OpenHandler handler) { on_open_ = std::move(handler); }
  void on_message(MessageHandler handler) { on_message_ = std::move(handler); }
  void on_closed(CloseHandler handler) { on_closed_ = std::move(handler); }

  // Starts the connect sequence (once). Its pending operations keep the object alive until
  // on_closed ran, so an owner may let go of it; destroying the io_context releases it.
  void connect();
  // Queues a copy of a text (or binary) message. Paced messages wait for the ControlPacer
  // (SUBSCRIBE etc. on market streams); unpaced ones skip it (WS API requests: their limit is
  // request weight). The copy goes into a preallocated queue slot whose buffer is reused, so a
  // steady stream of orders allocates nothing once each slot has held its largest message.
  SendStatus send(std::string_view payload, Pacing pacing = Pacing::paced, bool binary = false);
  // Queues a ping (always paced).
  SendStatus ping(std::string_view payload = {});
  // Close handshake with `reason` (max 123 bytes), bounded by close_timeout; then on_closed with
  // CloseCause::local. Safe to call in any state and more than once.
  void close(std::string reason = "client closing");

  [[nodiscard]] bool is_open() const noexcept { return state_ == State::open; }
  [[nodiscard]] const WebSocketStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t queued() const noexcept { return queued_; }
  [[nodiscard]] const WebSocketOptions& options() const noexcept { return options_; }

 private:
  enum class State : std::uint8_t { idle, resolving, connecting, tls_handshake, ws_handshake, open, closing, closed };
  enum class OutKind : std::uint8_t { text, binary, ping };
  struct Outgoing {
    std::string payload;
    OutKind kind = OutKind::text;
    Pacing pacing = Pacing::paced;
  };
  using Tcp = boost::asio::ip::tcp;
  using Stream = boost::beast::websocket::stream<TlsSocket>;

  WebSocketClient(boost::asio::io_context& ioc, TlsContextPtr tls, WebSocketOptions options);

  void do_resolve();
  void on_resolve(const boost::system::error_code& ec, const Tcp::resolver::results_type& results);
  void on_connect(const boost::system::error_code& ec);
  void on_tls_handshake(const boost::system::error_code& ec);
  void on_ws_handshake(const boost::system::error_code& ec);
  void do_read();
  void on_read(const boost::system::error_code& ec, std::size_t bytes);
  void do_write();
  void on_write(const boost::system::error_code& ec, std::size_t bytes);
  void on_close(const boost::system::error_code& ec);
  void on_control_frame(boost::beast::websocket::frame_type kind, std::string_view payload);
  void arm_phase_deadline(Nanos timeout, const char* phase);
  void arm_liveness();
  void on_liveness_check(const boost::system::error_code& ec);
  void fail(const boost::system::error_code& ec, const char* what);
  void finish(CloseCause cause, std::string message);
  SendStatus enqueue(std::string_view payload, OutKind kind, Pacing pacing);
  // The order path: with nothing queued or in flight, frames the message here and hands it to
  // TlsSocket::write_now as one TLS record: no copy into the queue, no Beast composed write, no
  // posted completion. False: not possible now (busy, too big, paced), use the queue.
  bool try_send_now(std::string_view payload, bool text, Pacing pacing);
  void on_direct_flushed(const boost::system::error_code& ec);

  // Masking keys for our frames (RFC 6455 section 5.3: unpredictable, from a strong source):
  // OpenSSL's CSPRNG, 256 at a time, refilled after a send once a quarter is left.
  class MaskKeys {
   public:
    bool next(std::uint32_t& key) noexcept {
      if (next_ == count_ && !refill()) return false;
      key = keys_[next_++];
      return true;
    }
    void refill_if_low() noexcept {
      if (count_ - next_ < kKeys / 4) (void)refill();
    }

   private:
    bool refill() noexcept;
    static constexpr std::size_t kKeys = 256;
    std::array<std::uint32_t, kKeys> keys_{};
    std::size_t next_ = 0;
    std::size_t count_ = 0;
  };
  static constexpr std::size_t kMaxFrameHeader = 8;  // 2 + 16-bit length + masking key

  boost::asio::io_context& ioc_;
  TlsContextPtr tls_;
  WebSocketOptions options_;
  Tcp::resolver resolver_;
  Stream ws_;
  boost::asio::steady_timer phase_timer_;
  boost::asio::steady_timer liveness_timer_;
  boost::asio::steady_timer pace_timer_;
  boost::beast::flat_buffer buffer_;
  MaskKeys masks_;
  std::vector<char> frame_;   // a direct frame being written (TlsSocket::kMaxRecordPlaintext)
  HandlerArena read_arena_;   // the pending read's Asio memory (one read at a time)
  HandlerArena write_arena_;  // the in-flight write's Asio memory (one write at a time)
  // Send queue: a ring of send_queue_limit slots, the oldest (being written) at queue_head_.
  std::vector<Outgoing> queue_;
  std::size_t queue_head_ = 0;
  std::size_t queued_ = 0;
  ControlPacer pacer_;
  State state_ = State::idle;
  bool writing_ = false;
  bool pace_timer_armed_ = false;
  bool close_requested_ = false;
  std::string close_message_;
  WebSocketStats stats_;
  OpenHandler on_open_;
  MessageHandler on_message_;
  CloseHandler on_closed_;
};

// ReconnectingWebSocket: keeps one logical stream up. On any close it waits Backoff::next_delay()
// and connects again; the backoff resets once a connection has delivered a message and stayed up
// for `healthy_after`. rotate() (Binance's serverShutdown event; and automatically at
// `max_connection_age`, before the 24 h cut) opens a second connection to the same target and
// switches to it when its first message arrives, then closes the old one. Until the switch the
// old connection keeps delivering; after it only the new one does. Nothing is lost if both see
// the same broadcast stream. The new connection may start a little BEHIND the old one (its first
// frame can be older than the old connection's last), so the messages of the overlap can be
// delivered twice, once from each connection, in one backwards step at the switch: consumers
// must drop what they have already applied (the depth synchroniser does, by update id).
// Same thread rules as WebSocketClient: the io_context's thread only.
struct ReconnectingOptions {
  WebSocketOptions ws;
  BackoffOptions backoff;
  std::uint64_t backoff_seed = 0x5eed;
  Nanos healthy_after = 30 * kNanosPerSecond;
  Nanos max_connection_age = 23 * 3600 * kNanosPerSecond;  // 0 = no automatic rotation
  Nanos rotation_timeout = 30 * kNanosPerSecond;           // give up a rotation attempt after this
};

struct ReconnectingStats {
  std::uint64_t connects = 0;     // connections that reached open
  std::uint64_t reconnects = 0;   // reconnect attempts scheduled after a close
  std::uint64_t rotations = 0;    // successful switches
  std::uint64_t rotation_failures = 0;
  std::uint64_t messages = 0;     // delivered to on_message
  std::uint64_t bytes = 0;
  Nanos last_message_at = 0;
  Nanos next_reconnect_delay = 0;
};

class ReconnectingWebSocket : public std::enable_shared_from_this<ReconnectingWebSocket> {
 public:
  // Runs when a connection opens; `standby` is true for the second connection of a rotation
  // (it is not delivering yet). Send subscriptions on `connection` here if the target needs them.
  using OpenHandler = std::function<void(WebSocketClient& connection, bool standby)>;
  using MessageHandler = WebSocketClient::MessageHandler;
  using DisconnectHandler = std::function<void(const CloseReason&, Nanos reconnect_in)>;

  [[nodiscard]] static std::shared_ptr<ReconnectingWebSocket> create(boost::asio::io_context& ioc,
                                                                     TlsContextPtr tls,
                                                                     ReconnectingOptions options);
  void on_open(OpenHandler handler) { on_open_ = std::move(handler); }
  void on_message(MessageHandler handler) { on_message_ = std::move(handler); }
  void on_disconnected(DisconnectHandler handler) { on_disconnected_ = std::move(handler); }

  void start();
  // Stops for good: closes the connections, cancels any pending reconnect.
  void stop(std::string reason = "stopping");
  // Proactive rotation (no-op while one is in progress or nothing is open).
  void rotate();
  SendStatus send(std::string_view payload, Pacing pacing = Pacing::paced);

  [[nodiscard]] bool is_open() const noexcept { return active_ && active_->is_open(); }
  [[nodiscard]] bool rotating() const noexcept { return static_cast<bool>(standby_); }
  [[nodiscard]] const ReconnectingStats& stats() const noexcept { return stats_; }
  // Stats of the connection currently delivering (nullptr while reconnecting).
  [[nodiscard]] const WebSocketStats* connection_stats() const noexcept {
    return active_ ? &active_->stats() : nullptr;
  }

 private:
  ReconnectingWebSocket(boost::asio::io_context& ioc, TlsContextPtr tls, ReconnectingOptions options);
  std::shared_ptr<WebSocketClient> make_client();
  void connect_active();
  void schedule_reconnect(const CloseReason& reason);
  void on_active_message(const WsMessage& message);
  void on_standby_first_message(const WsMessage& message);
  void arm_rotation_timer();

  boost::asio::io_context& ioc_;
  TlsContextPtr tls_;
  ReconnectingOptions options_;
  Backoff backoff_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer rotation_timer_;
  std::shared_ptr<WebSocketClient> active_;
  std::shared_ptr<WebSocketClient> standby_;
  Nanos active_opened_at_ = 0;
  Nanos standby_started_at_ = 0;
  Nanos standby_opened_at_ = 0;
  Nanos next_rotation_at_ = 0;  // earliest automatic rotation retry after a failed one
  bool active_had_message_ = false;
  bool stopped_ = true;
  ReconnectingStats stats_;
  OpenHandler on_open_;
  MessageHandler on_message_;
  DisconnectHandler on_disconnected_;
};

}  // namespace tb::net

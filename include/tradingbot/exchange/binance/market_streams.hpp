// MarketStreamManager: the live market-data path for Binance spot. It joins the transport (net:
// ReconnectingWebSocket, HttpsConnectionPool) to the MarketDataPipeline (decode -> depth sync ->
// books -> price cache):
//   - combined-stream connections built from symbols x streams ("btcusdt@depth@100ms"), at most
//     `max_streams_per_connection` (Binance: 1024) per connection, more connections when needed;
//     SUBSCRIBE / UNSUBSCRIBE at runtime (update_subscriptions), sent paced by the connection's
//     ControlPacer (under Binance's 5 messages/s, pongs counted);
//   - every frame straight from the receive buffer into the pipeline (zero copy, no allocation);
//   - a dropped connection marks the books of its symbols unsynced (pipeline.on_reconnect) at
//     once, so /ready says so while it reconnects; a serverShutdown frame rotates the connection
//     (new one first, switch on its first message: no gap, the synchroniser drops duplicates);
//   - REST depth snapshots (GET /api/v3/depth) whenever a synchroniser asks, one at a time,
//     budgeted by the RateLimitTracker (depth weight 250 at limit 5000) and retried with
//     backoff; a gap or crossed book asks again by itself;
//   - a market-data breaker per symbol: stream stale (no message for `stale_after`) or its
//     connection down => open: REST polling of /api/v3/ticker/bookTicker (all such symbols in one
//     request, weight 2 or 4, every `poll_interval`) feeds the price cache with source Rest;
//     the stream delivers again => half_open (polling continues); fresh for `close_after` =>
//     closed. This is a health state machine, not net::CircuitBreaker: its transitions are driven
//     by stream freshness, not by counting call failures;
//   - per-stream freshness and message counts, per-symbol and per-connection message rates.
// Observers (record command) see every frame exactly as received and every snapshot body.
// Threading: everything on the trading thread's io_context; not thread-safe. Callers on other
// threads post to that io_context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tradingbot/config/config.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/exchange/binance/json_parser.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/exchange/binance/rate_limits.hpp"
#include "tradingbot/exchange/binance/rest_responses.hpp"
#include "tradingbot/net/backoff.hpp"
#include "tradingbot/net/https_pool.hpp"
#include "tradingbot/net/websocket_client.hpp"

namespace tb::binance {

inline constexpr std::size_t kMaxStreamsPerConnection = 1024;  // Binance's per-connection limit

// "btcusdt@depth@100ms": the symbol lowercased, then '@', then the stream as configured.
[[nodiscard]] std::string stream_name(const Symbol& symbol, std::string_view stream);
// Every symbol x stream, symbol-major, without duplicates.
[[nodiscard]] std::vector<std::string> stream_names(std::span<const Symbol> symbols,
                                                    std::span<const std::string> streams);
// Splits names into groups of at most `max_per_connection` (>= 1), keeping order.
[[nodiscard]] std::vector<std::vector<std::string>> partition_streams(std::span<const std::string> names,
                                                                      std::size_t max_per_connection);
// "<base_path>/stream?streams=a/b/c".
[[nodiscard]] std::string combined_stream_target(std::string_view base_path, std::span<const std::string> names);
// {"method":"SUBSCRIBE","params":["a","b"],"id":7}
[[nodiscard]] std::string control_message(std::string_view method, std::span<const std::string> names,
                                          std::int64_t id);

enum class FeedState : std::uint8_t { closed, open, half_open };
[[nodiscard]] std::string_view feed_state_name(FeedState state) noexcept;

struct MarketStreamOptions {
  net::ReconnectingOptions ws;       // host/port/connect_host/timeouts/backoff; target is set per connection
  std::string ws_base_path;          // prefix of "/stream?streams=" (usually empty)
  std::string rest_host;
  std::uint16_t rest_port = 443;
  std::string rest_connect_host;     // resolve this instead of rest_host when set (tests)
  std::vector<Symbol> symbols;
  std::vector<std::string> streams;  // "bookTicker", "depth@100ms", ...
  std::size_t max_streams_per_connection = kMaxStreamsPerConnection;
  std::int64_t depth_snapshot_limit = 5000;
  Nanos stale_after = 3 * kNanosPerSecond;
  Nanos close_after = 3 * kNanosPerSecond;        // half_open -> closed after this long fresh
  Nanos poll_interval = kNanosPerSecond;          // bookTicker polling while a breaker is not closed
  Nanos refresh_min_interval = 500 * kNanosPerMilli;  // on-demand refresh of one symbol at most this often
  Nanos tick = 100 * kNanosPerMilli;              // freshness / breaker / rate evaluation period
  Nanos rest_timeout = 10 * kNanosPerSecond;
  net::BackoffOptions snapshot_backoff{500 * kNanosPerMilli, 30 * kNanosPerSecond, 0, 2.0};
  // The process's per-IP REST budget, shared with the order path (RestClientOptions::rate_limits);
  // null: a tracker of its own.
  std::shared_ptr<RateLimitTracker> rate_limits;

  // Endpoints, symbols, streams, stale_after and the snapshot limit from the config.
  static MarketStreamOptions from_config(const config::Config& config);
};

struct StreamFreshness {
  std::string name;
  std::uint64_t messages = 0;
  Nanos last_message_mono_ns = 0;  // 0 = never
  std::size_t connection = 0;
};

struct SymbolFeedStats {
  Symbol symbol;
  FeedState state = FeedState::closed;
  std::uint64_t breaker_trips = 0;
  std::uint64_t messages = 0;
  double messages_per_s = 0;       // over the last full second
  Nanos last_message_mono_ns = 0;  // 0 = never
  bool connection_up = false;
  std::uint64_t rest_polls = 0;          // bookTicker quotes received over REST
  std::uint64_t rest_poll_failures = 0;
  std::uint64_t snapshot_requests = 0;   // REST depth requests sent
  std::uint64_t snapshot_failures = 0;
};

struct ConnectionStats {
  std::size_t index = 0;
  std::size_t streams = 0;
  bool up = false;
  std::uint64_t connects = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t rotations = 0;
  std::uint64_t server_shutdowns = 0;
  std::uint64_t messages = 0;
  double messages_per_s = 0;
  std::string last_disconnect;  // "remote: ..." or empty
};

class MarketStreamManager {
 public:
  using FrameObserver = std::function<void(const net::WsMessage&)>;
  using SnapshotObserver = std::function<void(const Symbol&, std::string_view body, Nanos recv_wall_ns)>;

  MarketStreamManager(boost::asio::io_context& ioc, net::TlsContextPtr tls, MarketStreamOptions options,
                      MarketDataPipeline& pipeline);
  ~MarketStreamManager();
  MarketStreamManager(const MarketStreamManager&) = delete;
  MarketStreamManager& operator=(const MarketStreamManager&) = delete;

  void set_frame_observer(FrameObserver observer) { frame_observer_ = std::move(observer); }
  void set_snapshot_observer(SnapshotObserver observer) { snapshot_observer_ = std::move(observer); }

  void start();
  // Closes every connection, cancels timers and REST requests. Idempotent.
  void stop();
  // Runtime change of the subscription (config reload): streams that went away are
  // UNSUBSCRIBEd, new ones SUBSCRIBEd on a connection with room (or on a new connection). New
  // symbols must already be known to the pipeline (Options::symbols / accept_new_symbols).
  void update_subscriptions(std::vector<Symbol> symbols, std::vector<std::string> streams);
  // Asks for a REST bookTicker of a tracked symbol soon (price cache miss or stale quote); at
  // most once per refresh_min_interval per symbol. False for an unknown symbol.
  bool request_price_refresh(const Symbol& symbol);

  [[nodiscard]] std::vector<SymbolFeedStats> symbol_stats() const;
  [[nodiscard]] std::vector<ConnectionStats> connection_stats() const;
  [[nodiscard]] std::vector<StreamFreshness> stream_stats() const;
  [[nodiscard]] const RateLimitTracker& rate_limits() const noexcept { return *rate_limits_; }
  [[nodiscard]] const net::HttpsConnectionPool& rest_pool() const noexcept { return *pool_; }
  [[nodiscard]] std::optional<FeedState> feed_state(const Symbol& symbol) const;
  [[nodiscard]] std::size_t connection_count() const noexcept { return connections_.size(); }
  // Test and operator hook: rotate every open connection now (as at the 24 h cut).
  void rotate_all();

 private:
  struct Connection;
  struct SymbolFeed;
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  void build_connections(const std::vector<std::string>& names);
  Connection& add_connection(std::vector<std::string> names);
  void start_connection(Connection& conn);
  void on_frame(Connection& conn, const net::WsMessage& message);
  void on_connection_open(Connection& conn, net::WebSocketClient& client, bool standby);
  void on_connection_down(Connection& conn, const net::CloseReason& reason);
  void refresh_symbol_connections();
  SymbolFeed* feed(const Symbol& symbol);

  void post_book_drain();

  void on_snapshot_wanted(const Symbol& symbol);
  void pump_snapshots();
  void send_snapshot_request(SymbolFeed& feed);
  void on_snapshot_response(const Symbol& symbol, net::HttpsResult& result);
  void arm_snapshot_timer(Nanos at_mono);

  void on_tick();
  void evaluate_breakers(Nanos now_mono);
  void maybe_poll(Nanos now_mono);
  void on_poll_response(std::vector<Symbol> symbols, net::HttpsResult& result);
  void account_rest_response(const net::HttpsResult& result);
  net::HttpsRequest rest_request(std::string target) const;

  boost::asio::io_context& ioc_;
  net::TlsContextPtr tls_;
  MarketStreamOptions options_;
  MarketDataPipeline& pipeline_;
  std::shared_ptr<net::HttpsConnectionPool> pool_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<SymbolFeed>> feeds_;
  std::unordered_map<Symbol, std::size_t> feed_index_;
  std::unordered_map<std::string, StreamFreshness, StringHash, std::equal_to<>> streams_;
  std::deque<Symbol> snapshot_queue_;
  bool snapshot_in_flight_ = false;
  bool poll_in_flight_ = false;
  Nanos next_poll_at_ = 0;
  Nanos rate_window_start_ = 0;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer snapshot_timer_;
  bool snapshot_timer_armed_ = false;
  bool book_drain_posted_ = false;
  std::shared_ptr<RateLimitTracker> rate_limits_;  // never null
  net::Backoff snapshot_backoff_;
  JsonParser parser_;
  std::vector<BookTicker> tickers_;
  std::int64_t next_control_id_ = 1;
  bool running_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards REST callbacks after destruction
  FrameObserver frame_observer_;
  SnapshotObserver snapshot_observer_;
};

}  // namespace tb::binance

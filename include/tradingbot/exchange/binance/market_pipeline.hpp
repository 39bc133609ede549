// MarketDataPipeline: the trading thread's market-data path for Binance, from raw bytes to
// state: StreamDecoder -> per-symbol DepthSynchronizer (+ L2Book) -> PriceCache -> a
// MarketEventSink (strategy / paper venue). Replay, record and the live daemon feed it the same
// way, so they run the same code.
//
// How a live WebSocket client drives it (all on the trading thread):
//   - every received text frame:        pipeline.on_ws_frame(frame, wall_clock_ns());
//     (or on_ws_frame_padded() when the receive buffer has kPadding spare bytes: zero copy)
//   - when the pipeline asks for a snapshot (the handler set with set_snapshot_request_handler
//     is called with the symbol; it must not call back into the pipeline synchronously):
//     send GET /api/v3/depth?symbol=S&limit=N, then pipeline.on_rest_depth_snapshot(S, body, now);
//     if the request fails, pipeline.on_rest_depth_snapshot_failed(S) (the handler is called
//     again; pacing/backoff is the REST layer's job)
//   - after any reconnect (24 h cut, serverShutdown, network error): pipeline.on_reconnect()
//     before feeding frames of the new connection; server_shutdown_seen() tells the client a
//     serverShutdown frame arrived and it should reconnect now.
// The pipeline never blocks, never throws on bad input (counted, dropped) and does not
// allocate per message once warm (a new symbol allocates its book once).
// Owned and called by one thread (the trading thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tradingbot/config/config.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/exchange/binance/stream_decoder.hpp"
#include "tradingbot/market/capture.hpp"
#include "tradingbot/market/depth_synchronizer.hpp"
#include "tradingbot/market/event_sink.hpp"
#include "tradingbot/market/price_cache.hpp"

namespace tb::binance {

struct SymbolMarketStats {
  Symbol symbol;
  market::SyncStats sync;
  std::uint64_t book_tickers = 0;
  std::uint64_t book_ticker_checks = 0;      // bookTickers compared with the book at the same id
  std::uint64_t book_ticker_mismatches = 0;  // compared and best bid/ask price or qty differed
  std::uint64_t depth_diffs = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t partial_depths = 0;
  std::uint64_t trades = 0;
  std::uint64_t agg_trades = 0;
  std::uint64_t klines = 0;
  Nanos last_message_ns = 0;
};

struct PipelineStats {
  std::uint64_t frames = 0;             // everything handed in (frames + REST snapshots)
  std::uint64_t decode_errors = 0;      // malformed, oversized, bad field
  std::uint64_t unsupported = 0;        // valid but not decoded (miniTicker, ...)
  std::uint64_t control_replies = 0;
  std::uint64_t error_replies = 0;
  std::uint64_t server_shutdowns = 0;
  std::uint64_t snapshot_requests = 0;  // handed to the snapshot request handler
  std::uint64_t filtered = 0;           // events for symbols this pipeline does not track
  std::uint64_t unattributed_snapshots = 0;  // bare snapshot with no way to know its symbol
};

class MarketDataPipeline {
 public:
  struct Options {
    std::vector<Symbol> symbols;          // books created up front (live: the configured ones)
    bool accept_new_symbols = false;      // replay: create a book for every symbol seen
    std::optional<Symbol> only_symbol;    // when set, everything else is filtered out
    std::size_t price_cache_capacity = market::PriceCache::kDefaultCapacity;
    Nanos price_cache_ttl = market::PriceCache::kDefaultTtl;
    std::size_t book_reserve_levels = 6400;  // per side; >= the REST snapshot limit
    StreamDecoder::Options decoder;
  };
  static Options options_from(const config::MarketConfig& market);

  explicit MarketDataPipeline(Options options);
  ~MarketDataPipeline();
  MarketDataPipeline(const MarketDataPipeline&) = delete;
  MarketDataPipeline& operator=(const MarketDataPipeline&) = delete;

  // ---- input (trading thread) ----
  DecodeStatus on_ws_frame(std::string_view frame, Nanos recv_ns, std::string_view raw_stream = {});
  DecodeStatus on_ws_frame_padded(const char* data, std::size_t len, std::size_t capacity, Nanos recv_ns,
                                  std::string_view raw_stream = {});
  // A REST error body ({"code":..,"msg":..}) counts as an error reply and re-requests.
  DecodeStatus on_rest_depth_snapshot(const Symbol& symbol, std::string_view json, Nanos recv_ns);
  void on_rest_depth_snapshot_failed(const Symbol& symbol);
  // One capture line: WS frames and snapshots in every supported form. A bare snapshot line
  // belongs to `file_symbol` (the only symbol of a single-symbol capture).
  DecodeStatus on_capture_record(const market::CaptureRecord& record, const Symbol& file_symbol);
  void on_reconnect();
  void on_reconnect(const Symbol& symbol);

  void set_snapshot_request_handler(std::function<void(const Symbol&)> handler);
  void set_sink(market::MarketEventSink* sink) noexcept { sink_ = sink; }

  // Books holding deep updates they have not applied yet (L2Book: "Deep updates wait"), and
  // applying up to `max_levels` of them, oldest book first; returns how many books still hold
  // some. The stream manager calls it when the trading thread has nothing else to do; reads of a
  // book never need it (they apply what they must themselves).
  [[nodiscard]] bool has_deferred_book_levels() const noexcept { return !deferred_books_.empty(); }
  std::size_t apply_deferred_book_levels(std::size_t max_levels);

  // ---- state (trading thread; publish copies for other threads) ----
  [[nodiscard]] const market::DepthSynchronizer* synchronizer(const Symbol& symbol) const;
  [[nodiscard]] const book::L2Book* book(const Symbol& symbol) const;
  [[nodiscard]] market::PriceCache& price_cache() noexcept { return cache_; }
  [[nodiscard]] const market::PriceCache& price_cache() const noexcept { return cache_; }
  [[nodiscard]] std::vector<Symbol> symbols() const;  // sorted
  [[nodiscard]] std::optional<SymbolMarketStats> symbol_stats(const Symbol& symbol) const;
  [[nodiscard]] const PipelineStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const DecoderStats& decoder_stats() const noexcept { return decoder_.stats(); }
  // The last decoded message (valid until the next input call).
  [[nodiscard]] const DecodedMessage& last_message() const noexcept { return msg_; }
  [[nodiscard]] bool server_shutdown_seen() const noexcept { return server_shutdown_seen_; }

 private:
  struct SymbolState;
  SymbolState* state_for(const Symbol& symbol);
  [[nodiscard]] const SymbolState* find(const Symbol& symbol) const;
  DecodeStatus dispatch(DecodeStatus status, Nanos recv_ns, const Symbol* bare_snapshot_symbol);
  void on_depth_diff(SymbolState& s, Nanos recv_ns);
  void on_snapshot(SymbolState& s, const market::DepthSnapshot& snapshot, Nanos recv_ns);
  void after_book_change(SymbolState& s, Nanos recv_ns);
  void check_book_ticker(SymbolState& s);
  void poll_snapshot_request(SymbolState& s);

  Options options_;
  StreamDecoder decoder_;
  DecodedMessage msg_;
  market::PriceCache cache_;
  std::vector<std::unique_ptr<SymbolState>> states_;
  std::vector<SymbolState*> deferred_books_;  // books with deferred levels, oldest listed first
  std::unordered_map<Symbol, std::size_t> index_;
  SymbolState* last_state_ = nullptr;
  std::function<void(const Symbol&)> snapshot_request_handler_;
  market::MarketEventSink* sink_ = nullptr;
  PipelineStats stats_;
  bool server_shutdown_seen_ = false;
};

}  // namespace tb::binance

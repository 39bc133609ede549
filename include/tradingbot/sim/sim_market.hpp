// SimMarket: the simulator's exchange core for all symbols, without any I/O. Per symbol it owns
// a book::MatchingEngine with the configured filters, a deterministic synthetic order flow
// (seeded agents: passive limit orders around a drifting fair value, crossing IOC takers,
// cancels that keep the book bounded), the accumulated depth diffs for the 100 ms and 1000 ms
// diff streams, the last published best bid/ask and the 1s/1m klines. It renders every stream
// payload in Binance's exact JSON shape and hands it to a StreamSink; the server fans the
// payloads out to subscribed connections.
//
// Numbers are printed with 8 fractional digits, as Binance prints them (its base/quote asset
// precision: "61837.63000000"); exchangeInfo carries the tick/step that say which digits matter.
//
// Determinism: the flow depends only on the seed and on how many steps ran (not on wall time),
// so two markets built from the same config and stepped the same number of times trade exactly
// the same orders. Times in payloads are whatever `now_ms` the caller passes.
//
// Threading: one owner thread (the simulator's io_context thread) calls everything.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/book/matching_engine.hpp"
#include "tradingbot/sim/sim_config.hpp"

namespace tb::sim {

// Receives rendered stream payloads. `stream` is Binance's stream name ("btcusdt@trade"); the
// payload is the raw (not enveloped) JSON. Both views are valid only during the call.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual void publish(std::string_view stream, std::string_view payload) = 0;
};

// Deterministic random numbers (splitmix64 seeding a xoshiro256**), with its own distributions
// so the sequence does not depend on the standard library's implementation.
class SimRng {
 public:
  explicit SimRng(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;
  double uniform() noexcept;                     // [0, 1)
  double normal() noexcept;                      // standard normal (Box-Muller)
  std::uint64_t below(std::uint64_t n) noexcept;  // [0, n), n > 0
  std::uint32_t poisson(double mean) noexcept;

 private:
  std::uint64_t s_[4];
};

struct KlineBar {
  std::int64_t open_time = 0;   // ms
  std::int64_t close_time = 0;  // ms (open + interval - 1)
  Price open, high, low, close;
  Qty volume;
  Money quote_volume;
  Qty taker_buy_volume;
  Money taker_buy_quote;
  std::int64_t trades = 0;
  std::int64_t first_trade_id = -1;
  std::int64_t last_trade_id = -1;
};

// Kline intervals the simulator serves.
enum class KlineInterval : std::uint8_t { S1, M1 };
inline constexpr std::size_t kKlineIntervals = 2;
[[nodiscard]] std::string_view kline_interval_name(KlineInterval interval) noexcept;  // "1s", "1m"
[[nodiscard]] std::int64_t kline_interval_ms(KlineInterval interval) noexcept;
[[nodiscard]] std::optional<KlineInterval> parse_kline_interval(std::string_view text) noexcept;

// Depth-diff stream speeds.
enum class DiffSpeed : std::uint8_t { Fast100ms, Slow1000ms };

// The engine account id the agents trade under; user accounts use other ids.
inline constexpr book::AccountId kAgentAccount = 1;

// Per-trade information for user-account bookkeeping (set by the owner of SimMarket).
class TradeObserver {
 public:
  virtual ~TradeObserver() = default;
  virtual void on_user_event(std::size_t symbol_index, const book::Trade* trade, const book::OrderExpired* expired,
                             const book::OrderCancelled* cancelled, const book::OrderAccepted* accepted) = 0;
};

class SimSymbol;

class SimMarket {
 public:
  SimMarket(const SimConfig& config, StreamSink& sink);
  ~SimMarket();
  SimMarket(const SimMarket&) = delete;
  SimMarket& operator=(const SimMarket&) = delete;

  // Advances the synthetic flow of every symbol by one agent step (config.agent_step_ms).
  void step(std::int64_t now_ms);
  // Publishes the accumulated diffs of `speed` (depthUpdate) and the partial-depth streams of
  // that speed; nothing is sent for a symbol whose book did not change.
  void flush_depth(DiffSpeed speed, std::int64_t now_ms);
  // Publishes the current kline of `interval` for every symbol (closed ones first, x=true).
  void publish_klines(KlineInterval interval, std::int64_t now_ms);

  [[nodiscard]] std::size_t symbol_count() const noexcept;
  [[nodiscard]] std::optional<std::size_t> find(const Symbol& symbol) const noexcept;
  [[nodiscard]] const SimSymbolConfig& symbol_config(std::size_t index) const noexcept;
  [[nodiscard]] book::MatchingEngine& engine(std::size_t index) noexcept;
  // Call after every engine request a user made, so bookTicker/trade/aggTrade go out.
  void after_user_request(std::size_t index, std::int64_t now_ms);
  void set_trade_observer(TradeObserver* observer) noexcept { observer_ = observer; }

  // REST renderers (append JSON to `out`).
  void render_depth(std::size_t index, std::size_t limit, std::string& out) const;
  void render_book_ticker(std::size_t index, std::string& out) const;
  void render_price_ticker(std::size_t index, std::string& out) const;
  // Klines of `interval`, oldest first, at most `limit`, open time within [start_ms, end_ms].
  void render_klines(std::size_t index, KlineInterval interval, std::int64_t start_ms, std::int64_t end_ms,
                     std::size_t limit, std::string& out) const;
  void render_exchange_info_symbol(std::size_t index, std::string& out) const;
  [[nodiscard]] Price last_price(std::size_t index) const noexcept;

  // Capture replay: /depth serves this REST snapshot JSON for the symbol instead of the engine.
  void set_replay_snapshot(std::size_t index, std::string_view json);

  // Fault: the next depth diff of `speed` for this symbol is computed but not sent, so clients
  // see a gap (U > previous u + 1).
  void skip_next_diff(std::size_t index) noexcept;

  [[nodiscard]] std::uint64_t trades_published() const noexcept { return trades_published_; }

 private:
  friend class SimSymbol;
  const SimConfig& config_;
  StreamSink& sink_;
  TradeObserver* observer_ = nullptr;
  std::vector<std::unique_ptr<SimSymbol>> symbols_;
  std::uint64_t trades_published_ = 0;
  std::string scratch_;
  std::vector<std::string> replay_snapshots_;
};

// Appends `raw` (1e-8 units) with exactly 8 fractional digits, quoted: "61837.63000000".
void append_decimal_string(std::string& out, std::int64_t raw);
void append_int(std::string& out, std::int64_t value);

}  // namespace tb::sim

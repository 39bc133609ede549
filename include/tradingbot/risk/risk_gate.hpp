// RiskGate: the pre-trade check every order intent passes before the order manager creates it,
// plus the trading-wide safety states: kill switch (manual halt/resume, strategy faults), daily
// loss and drawdown limits (which move the gate to REDUCING or HALTED), and a dead-man timer for
// stale market data or a silent user stream.
//
// Inputs are normalized values (mids, equity, exposure) and the caller's `now`: wall-clock Unix
// nanoseconds (replay feeds capture receive times). Only differences of `now` and its UTC day are
// used. check_order() returns a RejectReason (Accepted on success) and never throws or allocates;
// every rejection is counted per reason.
//
// Trading thread only. Other threads (HTTP control) post halt/resume to the trading thread and
// read counters through the published status snapshot.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/risk/equity_tracker.hpp"
#include "tradingbot/risk/order_intent.hpp"
#include "tradingbot/risk/rate_limiter.hpp"

namespace tb::risk {

// Exchange filters of one symbol (exchangeInfo `filters[]`, decoded by the exchange layer) plus
// the bot's own per-symbol limits. Every field that is zero disables its rule, like Binance.
struct SymbolRules {
  Symbol symbol;
  // PRICE_FILTER
  Price tick_size;
  Price min_price;
  Price max_price;
  // LOT_SIZE
  Qty step_size;
  Qty min_qty;
  Qty max_qty;
  // MARKET_LOT_SIZE for MARKET orders; all zero = use LOT_SIZE.
  Qty market_step_size;
  Qty market_min_qty;
  Qty market_max_qty;
  // NOTIONAL (or legacy MIN_NOTIONAL): min <= price * qty <= max. MARKET orders use the mid.
  Money min_notional;
  Money max_notional;
  bool apply_min_to_market = true;
  bool apply_max_to_market = false;
  // The bot's own limits for this symbol, in base units (0 = only the global notional limits).
  Qty max_order_qty;
  Qty max_position_qty;
};

// What the order manager and position book know about one symbol when an intent is checked.
struct Exposure {
  Qty position;       // signed base quantity held now
  Qty open_buy_qty;   // remaining quantity of live BUY orders (incl. pending and unknown ones)
  Qty open_sell_qty;  // remaining quantity of live SELL orders
  std::uint32_t open_orders = 0;
};

enum class RejectReason : std::uint8_t {
  Accepted = 0,
  Halted,              // gate HALTED (kill switch, drawdown or daily-loss action)
  ReduceOnly,          // gate REDUCING and the order would not shrink the position
  StaleUserStream,     // no user-stream message within user_stream_stale (or never)
  StaleMarketData,     // the symbol's mid is older than market_data_stale (or never seen)
  UnknownSymbol,       // no SymbolRules registered
  InvalidOrder,        // qty <= 0, LIMIT without price, price on MARKET < 0 ...
  PriceTick,           // PRICE_FILTER tickSize
  PriceRange,          // PRICE_FILTER min/max
  QtyStep,             // LOT_SIZE / MARKET_LOT_SIZE stepSize
  QtyRange,            // LOT_SIZE / MARKET_LOT_SIZE min/max
  MinNotional,         // NOTIONAL minNotional
  MaxNotionalFilter,   // NOTIONAL maxNotional
  PriceBand,           // LIMIT price too far from the mid
  MaxOrderNotional,    // params.max_order_notional
  MaxOrderQty,         // SymbolRules::max_order_qty
  MaxPosition,         // worst-case position (incl. open orders) above the limit
  MaxOpenOrders,       // params.max_open_orders_per_symbol
  OrderRateLimit,      // params.order_rate_limit per order_rate_window
  CancelRateLimit,     // params.cancel_rate_limit per cancel_rate_window
  NotReady,            // set by the order manager: reconciliation not complete
  PoolFull,            // set by the order manager: no free order slot
};
inline constexpr std::size_t kRejectReasonCount = static_cast<std::size_t>(RejectReason::PoolFull) + 1;
[[nodiscard]] std::string_view to_string(RejectReason r) noexcept;

enum class GateMode : std::uint8_t { Active, Reducing, Halted };
[[nodiscard]] std::string_view to_string(GateMode m) noexcept;

// Why the gate is not Active; several may hold at once (bit flags).
enum class HaltCause : std::uint8_t {
  None = 0,
  Manual = 1,         // operator /control/halt
  StrategyFault = 2,  // strategy threw, or flooded the gate with rejected intents
  DailyLoss = 4,      // day_pnl <= -daily_loss_limit
  Drawdown = 8,       // drawdown from peak >= max_drawdown_bps
};
[[nodiscard]] constexpr std::uint8_t bit(HaltCause c) noexcept { return static_cast<std::uint8_t>(c); }

enum class LimitAction : std::uint8_t { Reduce, Halt };

// Parameters ([risk] TOML section). Defaults suit a small account trading a few USDT pairs.
// Suggested TOML keys (validate() names them so): money as decimal strings, durations in ms,
// enums as "reduce" | "halt":
//   max_order_notional = "1000"      max_position_notional = "5000"   max_open_orders_per_symbol = 10
//   price_band_bps = 500             order_rate_limit = 10            order_rate_window_ms = 1000
//   cancel_rate_limit = 20           cancel_rate_window_ms = 1000     daily_loss_limit = "200"
//   daily_loss_action = "reduce"     max_drawdown_bps = 1000          drawdown_action = "halt"
//   market_data_stale_ms = 5000      user_stream_stale_ms = 60000
//   strategy_reject_limit = 50       strategy_reject_window_ms = 10000
// Per-symbol max_order_qty / max_position_qty live in SymbolRules (e.g. [risk.symbols.BTCUSDT]).
struct RiskParams {
  // Largest notional (price * qty, mid for MARKET) of one order, quote units. Default 1000.
  Money max_order_notional = Money::from_integer(1'000);
  // Largest |position| including live orders, valued at the mid, quote units. Default 5000.
  Money max_position_notional = Money::from_integer(5'000);
  // Live orders per symbol (Binance's own MAX_NUM_ORDERS is 200). Default 10.
  std::uint32_t max_open_orders_per_symbol = 10;
  // A LIMIT / LIMIT_MAKER price must lie within mid * (1 +- band). Basis points; default 500 = 5%.
  std::int64_t price_band_bps = 500;
  // New orders: at most order_rate_limit per sliding order_rate_window (Binance allows 50/10 s
  // per account; default 10 per 1 s keeps well below). 0 disables.
  std::uint32_t order_rate_limit = 10;
  Nanos order_rate_window = 1 * kNanosPerSecond;
  // Cancels: default 20 per 1 s. 0 disables. Cancel-all is one request and is not limited.
  std::uint32_t cancel_rate_limit = 20;
  Nanos cancel_rate_window = 1 * kNanosPerSecond;
  // Loss since the UTC day's first equity update that trips daily_loss_action. Default 200.
  // Zero disables.
  Money daily_loss_limit = Money::from_integer(200);
  LimitAction daily_loss_action = LimitAction::Reduce;
  // Drawdown from peak equity in basis points that trips drawdown_action. Default 1000 = 10%.
  // Zero disables.
  std::int64_t max_drawdown_bps = 1'000;
  LimitAction drawdown_action = LimitAction::Halt;
  // Dead-man timer: market data (per symbol for order checks, any symbol for the timer) older
  // than this blocks new orders and signals cancel-all. Default 5 s.
  Nanos market_data_stale = 5 * kNanosPerSecond;
  // User stream silent for longer than this (the venue also reports WS pongs) does the same.
  // Default 60 s (the WS API pings every 20 s).
  Nanos user_stream_stale = 60 * kNanosPerSecond;
  // A strategy whose intents are rejected more than strategy_reject_limit times within
  // strategy_reject_window trips the kill switch (StrategyFault). Default 50 per 10 s; 0 disables.
  std::uint32_t strategy_reject_limit = 50;
  Nanos strategy_reject_window = 10 * kNanosPerSecond;

  // nullopt when valid, else an error naming the key ("risk.price_band_bps: must be in 1..10000").
  [[nodiscard]] std::optional<Error> validate() const;
};

// Checks the exchange filters only (no state). `reference` is the price used for MARKET orders'
// notional (the mid). Exposed for venues that want to pre-validate and for tests.
[[nodiscard]] RejectReason check_symbol_filters(const SymbolRules& rules, const OrderIntent& intent,
                                                Price reference) noexcept;

// What the dead-man timer asks of the caller.
enum class DeadManSignal : std::uint8_t { None, CancelAll };

class RiskGate {
 public:
  static constexpr std::size_t kMaxSymbols = 64;

  // Throws std::invalid_argument with validate()'s message on invalid params (start-up only).
  explicit RiskGate(const RiskParams& params);

  // --- configuration (cold path) ---
  // Registers or replaces a symbol's rules (exchangeInfo refresh). Returns false when the table
  // already holds kMaxSymbols other symbols.
  bool set_symbol_rules(const SymbolRules& rules);
  [[nodiscard]] const SymbolRules* rules(const Symbol& symbol) const noexcept;
  [[nodiscard]] const RiskParams& params() const noexcept { return params_; }

  // --- inputs ---
  // A fresh mid for `symbol` (the price band and MARKET notional reference); also a market-data
  // heartbeat for the dead-man timer. Unknown symbols only count as heartbeat.
  void on_mid(const Symbol& symbol, Price mid, Nanos now) noexcept;
  // Any market-data message that carries no mid (depth diff, trade) keeps the dead-man quiet.
  void on_market_heartbeat(Nanos now) noexcept { last_market_ = now; market_seen_ = true; }
  // Any user-stream message or pong.
  void on_user_stream(Nanos now) noexcept { last_user_ = now; user_seen_ = true; }
  // Current account equity (oms::PositionBook::equity()); evaluates daily-loss and drawdown.
  void on_equity(Nanos now, Money equity) noexcept;

  // --- checks ---
  // Pre-trade check of one intent given the symbol's exposure. On Accepted an order-rate token is
  // consumed (the caller must then create the order). Rejections are counted per reason and feed
  // the strategy-fault detector.
  [[nodiscard]] RejectReason check_order(const OrderIntent& intent, const Exposure& exposure, Nanos now) noexcept;
  // Cancels are allowed in every mode (they only reduce risk); only the cancel rate limit applies.
  [[nodiscard]] RejectReason check_cancel(Nanos now) noexcept;
  // Counts a rejection decided by the order manager (NotReady, PoolFull) under its reason.
  void count_reject(RejectReason reason, Nanos now) noexcept;

  // --- kill switch and modes ---
  // Manual halt (/control/halt) or strategy fault: latched until resume().
  void halt(HaltCause cause, Nanos now) noexcept;
  // Clears every cause, including loss and drawdown latches, and re-bases peak and day start to
  // the current equity: the operator acknowledges the losses so far and grants a fresh allowance.
  void resume(Nanos now) noexcept;
  [[nodiscard]] GateMode mode() const noexcept;
  [[nodiscard]] std::uint8_t halt_causes() const noexcept { return causes_; }
  [[nodiscard]] bool has_cause(HaltCause c) const noexcept { return (causes_ & bit(c)) != 0; }

  // Dead-man timer; call from a periodic timer (e.g. every 100 ms). Returns CancelAll once when
  // market data or the user stream turns stale (after having been seen once); re-arms when both
  // are fresh again.
  [[nodiscard]] DeadManSignal poll(Nanos now) noexcept;
  [[nodiscard]] bool market_data_stale(Nanos now) const noexcept;
  [[nodiscard]] bool user_stream_stale(Nanos now) const noexcept;

  // --- observability ---
  [[nodiscard]] std::uint64_t rejects(RejectReason r) const noexcept { return rejects_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::uint64_t accepted() const noexcept { return accepted_; }
  [[nodiscard]] std::uint64_t dead_man_trips() const noexcept { return dead_man_trips_; }
  [[nodiscard]] const EquityTracker& equity() const noexcept { return equity_; }
  [[nodiscard]] std::uint32_t orders_in_window(Nanos now) const noexcept { return order_limiter_.in_window(now); }
  [[nodiscard]] std::uint32_t cancels_in_window(Nanos now) const noexcept { return cancel_limiter_.in_window(now); }
  // Mid of a symbol (zero if never seen).
  [[nodiscard]] Price mid(const Symbol& symbol) const noexcept;

 private:
  struct SymbolState {
    SymbolRules rules;
    Price mid;
    Nanos mid_time = 0;
    bool has_mid = false;
  };
  [[nodiscard]] const SymbolState* find(const Symbol& s) const noexcept;
  [[nodiscard]] SymbolState* find(const Symbol& s) noexcept;
  RejectReason reject(RejectReason r, Nanos now) noexcept;
  void evaluate_limits(Nanos now) noexcept;

  RiskParams params_;
  std::vector<SymbolState> symbols_;  // reserved to kMaxSymbols; linear scan (tens of symbols)
  SlidingWindowLimiter order_limiter_;
  SlidingWindowLimiter cancel_limiter_;
  SlidingWindowLimiter fault_limiter_;
  EquityTracker equity_;
  std::uint8_t causes_ = 0;
  Nanos last_market_ = 0;
  Nanos last_user_ = 0;
  bool market_seen_ = false;
  bool user_seen_ = false;
  bool dead_man_fired_ = false;
  std::uint64_t dead_man_trips_ = 0;
  std::uint64_t accepted_ = 0;
  std::array<std::uint64_t, kRejectReasonCount> rejects_{};
};

}  // namespace tb::risk

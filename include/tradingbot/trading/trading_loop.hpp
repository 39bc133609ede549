// TradingLoop: the one path every order takes, identical in the daemon, in replay and in tests:
//
//   market events -> [paper venue mirror] -> strategy -> intents -> RiskGate (via OrderManager)
//                 -> OrderManager -> Venue
//   venue reports -> OrderManager -> PositionBook -> strategy (order updates, fills)
//   timer         -> venue.poll, dead-man check, kill-switch edge (cancel all), strategy timer,
//                    equity sample
//   control       -> halt / resume / cancel-all / flatten / manual order / manual cancel
//
// It owns the risk gate, the order manager and the position book, holds the strategy (optional)
// and talks to a Venue. It is the MarketEventSink the market-data pipeline calls, and the
// VenueListener the venue reports to. It has no clock and no I/O: every entry point takes `now`
// (wall-clock ns, the capture's receive time in replay), so replay is deterministic.
//
// Safety: a strategy callback that throws, or that overflows its intent buffer, or whose intents
// make the gate trip its strategy-fault limit, is disabled for good (until restart) and the kill
// switch trips (HaltCause::StrategyFault): every order is canceled and the gate refuses new ones
// until /control/resume. REDUCING (daily loss or drawdown with action "reduce") lets only
// position-shrinking orders through; HALTED refuses all new orders and cancels every open one
// once, when it is entered. The dead-man timer cancels everything when market data or the user
// stream goes stale.
//
// Trading thread only. No allocation per event once warm (the snapshot for /status copies into
// caller-owned vectors).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/core/result.hpp"
#include "tradingbot/market/event_sink.hpp"
#include "tradingbot/oms/flat_index.hpp"
#include "tradingbot/oms/order_manager.hpp"
#include "tradingbot/oms/position_book.hpp"
#include "tradingbot/risk/risk_gate.hpp"
#include "tradingbot/strategy/strategy.hpp"
#include "tradingbot/venue/venue.hpp"

namespace tb::venue {
class PaperVenue;
}

namespace tb::trading {

struct TradingSetup {
  risk::RiskParams risk;
  oms::OmsConfig oms;
  oms::Asset quote_asset = *Symbol::parse("USDT");
  Money initial_cash = Money::from_integer(10'000);
  // Every traded symbol with its exchange filters and the bot's per-symbol limits. The symbol's
  // name must end with quote_asset (base = the rest).
  std::vector<risk::SymbolRules> symbols;
  Nanos equity_sample_period = 1 * kNanosPerSecond;
  std::size_t equity_samples = 3'600;  // ring of (time, equity) samples kept for the store/status
};

// What a control action answers (HTTP maps it to 200 / 4xx).
struct ControlOutcome {
  bool ok = false;
  std::string message;          // reason on failure, or a short description
  oms::ClientOrderId client_id; // manual order: the new order's id
};

struct EquitySample {
  Nanos time = 0;
  Money equity;
};

struct TradingCounters {
  std::uint64_t market_events = 0;
  std::uint64_t intents = 0;
  std::uint64_t intents_rejected = 0;  // by the gate or the order manager
  std::uint64_t orders_sent = 0;
  std::uint64_t cancels_sent = 0;
  std::uint64_t fills = 0;
  std::uint64_t venue_rejects = 0;
  std::uint64_t strategy_faults = 0;
  std::uint64_t strategy_misuse = 0;   // place on a busy tag, cancel of an unknown tag, tag out of range
  std::uint64_t cancel_all = 0;        // cancel-all sweeps (dead-man, halt, control)
  std::uint64_t dead_man_trips = 0;
  std::uint64_t manual_orders = 0;
};

// Everything /status and /metrics show about trading (copied on the trading thread).
struct TradingSnapshot {
  std::string strategy;            // name, "" when none
  bool strategy_enabled = false;
  std::string strategy_fault;      // why it was disabled
  risk::GateMode mode = risk::GateMode::Active;
  std::uint8_t halt_causes = 0;
  std::size_t live_orders = 0;
  TradingCounters counters;
  oms::OmsCounters oms;
  std::array<std::uint64_t, risk::kRejectReasonCount> rejects{};
  std::uint64_t risk_accepted = 0;
  oms::PortfolioSnapshot portfolio;
  std::uint64_t equity_samples = 0;
};

// Sees what the loop does that is worth keeping: every order change and fill (through
// oms::OrderObserver), closed klines, equity samples. The app's StoreRecorder implements it to
// persist them; trading itself never depends on the store (no libpqxx below app). Same rules
// as oms::OrderObserver: trading thread, no blocking, no allocation per call.
class TradingObserver : public oms::OrderObserver {
 public:
  // A closed bar (k.closed) the market data delivered, before the strategy sees it.
  virtual void on_closed_kline(const market::Kline& kline, Nanos now) noexcept = 0;
  // Every equity sample the loop takes (each equity_sample_period); the observer keeps what it wants.
  virtual void on_equity_sample(const EquitySample& sample, const oms::PositionBook& book) noexcept = 0;
};

class TradingLoop final : public market::MarketEventSink, public venue::VenueListener, private strategy::MarketView {
 public:
  // Throws std::invalid_argument on an invalid setup (start-up). `strategy` may be null.
  // `paper` (optional) is the same object as `venue` when it is a PaperVenue: market events are
  // then mirrored into it before the strategy sees them.
  TradingLoop(const TradingSetup& setup, venue::Venue& venue, venue::PaperVenue* paper,
              std::unique_ptr<strategy::Strategy> strategy);
  ~TradingLoop() override;
  TradingLoop(const TradingLoop&) = delete;
  TradingLoop& operator=(const TradingLoop&) = delete;

  // Receives one-line alerts (strategy disabled, kill switch, dead-man) for the log. Cold path.
  void set_alert_handler(std::function<void(std::string_view)> handler) { alert_ = std::move(handler); }
  // Null to stop observing; the observer must outlive the loop or be reset first. Also installs
  // it as the order manager's observer.
  void set_observer(TradingObserver* observer) noexcept {
    observer_ = observer;
    oms_.set_observer(observer);
  }

  // Paper/replay: nothing to reconcile, the order manager is ready at once. Live: the gateway
  // calls order_manager().reconcile() with the exchange's view instead.
  void start_without_reconciliation(Nanos now);

  // ---- market::MarketEventSink ----
  void on_book_ticker(const market::BookTicker& ticker, Nanos now) override;
  void on_trade(const market::Trade& trade, Nanos now) override;
  void on_agg_trade(const market::AggTrade& trade, Nanos now) override;
  void on_kline(const market::Kline& kline, Nanos now) override;
  void on_partial_depth(const market::PartialDepth& depth, Nanos now) override;
  void on_book_update(const Symbol& symbol, const book::L2Book& book, Nanos now) override;
  void on_book_reset(const Symbol& symbol) override;

  // ---- venue::VenueListener ----
  void on_execution_report(const oms::ExecutionReport& report, Nanos now) override;
  void on_place_rejected(const oms::ClientOrderId& id, std::int32_t error_code, Nanos now) override;
  void on_place_unknown(const oms::ClientOrderId& id, Nanos now) override;
  void on_cancel_rejected(const oms::ClientOrderId& id, std::int32_t error_code, Nanos now) override;
  void on_cancel_unknown(const oms::ClientOrderId& id, Nanos now) override;
  void on_user_stream_alive(Nanos now) override;
  void on_user_stream_lost(Nanos now) override;
  void on_order_applied(const venue::AppliedChange& change, Nanos now) override;

  // ---- timer (every strategy.timer_ms, and whenever venue.next_due() comes) ----
  void on_timer(Nanos now);

  // ---- control (the HTTP thread posts these to the trading thread) ----
  ControlOutcome halt(Nanos now);
  ControlOutcome resume(Nanos now);
  ControlOutcome cancel_all(Nanos now);
  // Cancels everything, then sends MARKET orders that close every position (allowed in ACTIVE
  // and REDUCING; HALTED refuses new orders, flatten included).
  ControlOutcome flatten(Nanos now);
  ControlOutcome manual_order(const OrderIntent& intent, Nanos now);
  ControlOutcome manual_cancel(const Symbol& symbol, const oms::ClientOrderId& id, Nanos now);

  // ---- queries ----
  [[nodiscard]] risk::RiskGate& gate() noexcept { return gate_; }
  [[nodiscard]] oms::OrderManager& order_manager() noexcept { return oms_; }
  [[nodiscard]] const oms::PositionBook& positions() const noexcept { return book_; }
  [[nodiscard]] const TradingCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] bool strategy_enabled() const noexcept { return strategy_ != nullptr && strategy_enabled_; }
  [[nodiscard]] const std::vector<EquitySample>& equity_samples() const noexcept { return equity_ring_; }
  void snapshot(Nanos now, TradingSnapshot& out) const;

 private:
  static constexpr std::size_t kMaxTags = 256;
  static constexpr std::uint32_t kSupersededBit = 0x8000'0000u;
  static constexpr int kMaxIntentRounds = 8;

  // strategy::MarketView
  [[nodiscard]] Qty position(const Symbol& symbol) const noexcept override { return book_.position(symbol); }
  [[nodiscard]] const strategy::Instrument* instrument(const Symbol& symbol) const noexcept override;
  [[nodiscard]] const book::L2Book* book(const Symbol& symbol) const noexcept override;

  struct SymbolSlot {
    Symbol symbol;
    strategy::Instrument instrument;
    const book::L2Book* book = nullptr;
  };
  struct TagSlot {
    oms::ClientOrderId id;  // the tag's current order (empty when none)
    bool live = false;
  };
  struct PendingUpdate {  // strategy notifications produced while intents are being processed
    bool is_fill = false;
    strategy::OrderUpdate update;
    strategy::StrategyFill fill;
  };

  // Runs one strategy callback with exception containment, then executes its intents and
  // delivers the notifications they cause until things settle.
  template <class Fn>
  void run_strategy(Nanos now, Fn&& fn) noexcept;
  template <class Fn>
  bool call_strategy(Nanos now, Fn&& fn) noexcept;
  void deliver(Nanos now) noexcept;
  void execute(const strategy::Intent& intent, Nanos now) noexcept;
  bool place_for_tag(strategy::OrderTag tag, const OrderIntent& order, Nanos now) noexcept;
  void cancel_tag(strategy::OrderTag tag, Nanos now) noexcept;
  void strategy_fault(std::string_view why, Nanos now) noexcept;
  struct FillNote {
    Price price;
    Qty qty;
    bool maker = false;
  };
  // After the order manager applied a change to `order`: tells the strategy (a new fill, the
  // order working once `acked`, or done), retires finished tags, checks the gate's edges.
  void after_order_event(const oms::Order* order, const FillNote* fill, bool acked, Nanos now) noexcept;
  void after_cancel_refused(const oms::Order* order, Nanos now) noexcept;
  // The strategy's view of `o` as an order update (reason empty).
  [[nodiscard]] static PendingUpdate order_update(strategy::OrderTag tag, const oms::Order& o,
                                                  strategy::OrderEvent event) noexcept;
  void sweep_cancel_all(Nanos now) noexcept;
  // Market orders closing every position whose symbol has no open order left; returns refusals.
  std::string send_flatten_orders(Nanos now);
  void check_gate_edges(Nanos now) noexcept;
  void on_mid(const Symbol& symbol, Price mid, Nanos now) noexcept;
  void sample_equity(Nanos now) noexcept;
  void alert(std::string_view text);
  [[nodiscard]] SymbolSlot* slot(const Symbol& symbol) noexcept;
  [[nodiscard]] const SymbolSlot* slot(const Symbol& symbol) const noexcept;

  risk::RiskGate gate_;
  oms::PositionBook book_;
  oms::OrderManager oms_;
  venue::Venue& venue_;
  venue::PaperVenue* paper_;
  std::unique_ptr<strategy::Strategy> strategy_;
  bool strategy_enabled_ = true;
  std::string strategy_fault_;
  std::vector<SymbolSlot> symbols_;
  std::array<TagSlot, kMaxTags> tags_{};
  oms::FlatIndex tag_by_seq_;  // order seq -> tag (| kSupersededBit once replaced)
  strategy::IntentBuffer intents_;
  std::vector<PendingUpdate> pending_;  // reserved; drained after each intent batch
  bool processing_ = false;
  Nanos last_now_ = 0;
  bool halted_swept_ = false;
  bool flatten_pending_ = false;  // flatten waits for cancels to finish (retried on the timer)  // cancel-all already done for the current HALTED episode
  Nanos equity_period_;
  Nanos next_equity_sample_ = 0;
  std::vector<EquitySample> equity_ring_;
  std::size_t equity_capacity_;
  std::size_t equity_head_ = 0;
  std::uint64_t equity_count_ = 0;
  TradingCounters counters_;
  std::function<void(std::string_view)> alert_;
  TradingObserver* observer_ = nullptr;
};

}  // namespace tb::trading

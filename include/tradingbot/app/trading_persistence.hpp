// Trading <-> store: the one place where the trading loop's events become store records, and
// where the store's recovered state goes back into the trading loop at start (issues 6 and 7).
//
// Dependency direction. store (and its PostgreSQL driver module) persists; trading, oms, risk,
// strategy and venue must not depend on it.
// So the lower modules only define observer interfaces (oms::OrderObserver for order changes
// and fills, trading::TradingObserver for closed klines and equity samples) and value types
// (oms::RestoredOrder, PositionBook::restore_position), and this file, in app (which already
// depends on both trading and store), implements them: trading never knows the store exists,
// and the store's record layout stays independent of the oms (records.hpp).
//
// StoreRecorder: a TradingObserver that converts, on the trading thread, without allocation
// and without blocking (StoreProducer::enqueue):
//   order created / status change / filled qty grew -> OrderRecord (one per change)
//   new fill (deduplicated by trade id in the oms)   -> FillRecord, then PositionRecord of the
//                                                       symbol and, when balances are known to
//                                                       the book (paper), BalanceRecord of the quote
//   closed kline                                     -> KlineRecord
//   equity sample                                    -> EquitySample, at most one per
//                                                       equity_min_interval (bounded rate)
// Orders, fills, positions and balances are never dropped: when the ring is full the
// StoreProducer parks them in its overflow (counted here as overflowed per kind, and in the
// store's stats); klines and equity samples are dropped and counted when the ring is full.
//
// Restart recovery (restore_trading_state), before the strategy arms:
//   - positions: PositionBook::restore_position (qty, avg entry, realized PnL exact); paper mode
//     also restores the quote cash from the last quote BalanceRecord (fees included);
//   - open orders: OrderManager::restore_order (needs reconciliation: the oms is not ready);
//   - paper mode: the paper venue starts empty, so a recovered open order cannot still rest
//     anywhere. It is canceled: a CANCELED report from the paper venue with reason
//     "paper venue restarted", logged at warn and recorded (the store then shows it closed);
//     its fills up to the restart stay in the restored position and realized PnL. The paper
//     venue's order and trade ids are raised above every id the previous runs used (see
//     paper_id_floor) so new fills never collide with stored ones.
//   - live mode: the restored orders wait for the live venue's reconciliation: GET openOrders
//     and GET myTrades from RestoreSummary::trades_from (last stored trade id + 1 per symbol:
//     older trades are already in the restored positions and must not be applied twice), then
//     OrderManager::reconcile(), which resolves each restored order (still open, filled,
//     canceled) and sets ready_for_strategy() (attach_store_to_live_loop, run by LiveTrading's
//     restore hook before the gateway starts).
//
// Threads: StoreRecorder and restore_trading_state(): the trading thread. status(): the
// trading thread (copies plain counters for the published DaemonStatus).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/app/status.hpp"
#include "tradingbot/http/json_writer.hpp"
#include "tradingbot/http/prometheus_writer.hpp"
#include "tradingbot/store/record_queue.hpp"
#include "tradingbot/store/recovery.hpp"
#include "tradingbot/trading/trading_loop.hpp"

namespace tb::venue {
class PaperVenue;
}
namespace tb::trading {
class PaperSession;
}
namespace tb::binance {
class OrderGateway;
}

namespace tb::app {

// Reason text stored with an OrderRecord of an order whose place outcome is unknown: the store
// has no UNKNOWN status, so it is stored as PENDING_NEW with this reason and restored as Unknown.
inline constexpr std::string_view kUnknownOutcomeReason = "place outcome unknown";
inline constexpr std::string_view kPaperRestartReason = "paper venue restarted";

struct StoreRecorderOptions {
  Nanos equity_min_interval = 10 * kNanosPerSecond;  // at most one stored equity sample per this
  bool record_quote_balance = true;  // paper: the book's cash is the account's quote balance
};

// Conversions (value functions, any thread): exactly what the recorder stores.
[[nodiscard]] store::OrderRecord to_order_record(const oms::Order& order, Nanos now, std::string_view reason = {});
[[nodiscard]] store::FillRecord to_fill_record(const oms::Order& order, const oms::Fill& fill);
[[nodiscard]] store::PositionRecord to_position_record(const oms::SymbolPosition& position, Nanos now);
[[nodiscard]] store::KlineRecord to_kline_record(const market::Kline& kline);
// nullopt for a stored order that is not live or whose fields the oms cannot represent.
[[nodiscard]] std::optional<oms::RestoredOrder> to_restored_order(const store::OrderRecord& record);

class StoreRecorder final : public trading::TradingObserver {
 public:
  // `book`: the loop's PositionBook (loop.positions()), read after each fill.
  StoreRecorder(store::StoreProducer& producer, const oms::PositionBook& book,
                const StoreRecorderOptions& options) noexcept
      : producer_(producer), book_(book), options_(options) {
    status_.active = true;
  }

  void on_order_changed(const oms::Order& order, Nanos now) noexcept override;
  void on_fill_applied(const oms::Order& order, const oms::Fill& fill, Nanos now) noexcept override;
  void on_closed_kline(const market::Kline& kline, Nanos now) noexcept override;
  void on_equity_sample(const trading::EquitySample& sample, const oms::PositionBook& book) noexcept override;

  // The reason stored with the next OrderRecords (until cleared with {}): restore paths that
  // close orders for a local cause. Must point to static text.
  void set_reason(std::string_view reason) noexcept { reason_ = reason; }

  [[nodiscard]] const StoreRecorderStatus& status() const noexcept { return status_; }
  void note_restored(std::size_t positions, std::size_t orders, std::size_t paper_canceled) noexcept {
    status_.restored_positions = positions;
    status_.restored_orders = orders;
    status_.paper_canceled = paper_canceled;
  }

 private:
  void enqueue(const store::StoreRecord& record) noexcept;

  store::StoreProducer& producer_;
  const oms::PositionBook& book_;
  StoreRecorderOptions options_;
  std::string_view reason_;
  Nanos last_equity_ = 0;
  bool equity_seen_ = false;
  StoreRecorderStatus status_;
};

struct RestoreSummary {
  std::size_t positions = 0;        // positions restored into the PositionBook
  std::size_t open_orders = 0;      // open orders restored into the OrderManager
  std::size_t paper_canceled = 0;   // of those, canceled because the paper venue restarted
  std::size_t skipped = 0;          // stored records that could not be restored (logged)
  bool cash_restored = false;
  // Live reconciliation: per symbol, the first trade id to ask myTrades for (last stored + 1).
  std::vector<store::LastFill> trades_from;
  std::vector<std::string> problems;  // one line per skipped record
  [[nodiscard]] std::string describe() const;
};

// Next paper order/trade id that cannot collide with any id a previous run stored: above the
// highest stored trade id, and above wall-clock seconds << 24 (a previous run whose stored
// fills were partly lost would otherwise be reused; 16.7M ids per second of uptime).
[[nodiscard]] std::int64_t paper_id_floor(const store::RecoveredState& state, Nanos wall_now) noexcept;

// Puts the store's recovered state into the loop (see the header comment). `paper` is the loop's
// PaperVenue in paper mode (null in live mode). Call before the loop starts (PaperSession's
// first event / start_without_reconciliation, or the live venue's reconcile). Cold path.
RestoreSummary restore_trading_state(trading::TradingLoop& loop, const store::RecoveredState& state,
                                     venue::PaperVenue* paper, StoreRecorder* recorder, Nanos now);

class StoreService;

// The daemon's wiring in paper mode (a few lines in daemon.cpp): creates the recorder, makes it
// the loop's observer, takes the store's recovered state and restores it (logged), before the
// session's first event arms the strategy. The recorder must outlive the session's events.
std::unique_ptr<StoreRecorder> attach_store_to_paper_session(trading::PaperSession& session, StoreService& store,
                                                             Nanos now);
// Live mode: the same before the gateway starts; restored open orders wait for its
// reconciliation, and trades already in the restored positions become its trade-id floors.
std::unique_ptr<StoreRecorder> attach_store_to_live_loop(trading::TradingLoop& loop, binance::OrderGateway& gateway,
                                                         StoreService& store, Nanos now);

// Renders the recorder's counters inside the /status "store" object ("recorder": {...}) and as
// tradingbot_store_recorded_total{kind,outcome} in /metrics (HTTP thread).
void write_store_recorder_status(http::JsonWriter& json, const StoreRecorderStatus& status);
void write_store_recorder_metrics(http::PrometheusWriter& metrics, const StoreRecorderStatus& status);

}  // namespace tb::app

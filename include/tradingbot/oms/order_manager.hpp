// OrderManager: the bot's orders from intent to final state. It admits intents through the
// RiskGate, creates orders with deterministic client ids, runs every status change through one
// transition table (illegal changes are counted and refused, never applied silently), applies
// fills exactly once by exchange trade id into the PositionBook, handles unknown outcomes
// (5xx / timeout / -1007), out-of-order reports, and reconciliation with the exchange's view.
//
// Flow of a strategy intent (all on the trading thread, no allocation once warm):
//   strategy -> om.submit(intent, now)
//                 -> not ready (reconciliation pending)?          -> NotReady
//                 -> free order slot?                              -> PoolFull
//                 -> gate.check_order(intent, exposure(symbol), now) -> RejectReason
//                 -> order created: PENDING_NEW, client id "<prefix>-<seq>"
//            <- SubmitResult{Accepted, const Order*}
//   venue sends the order with newClientOrderId = order->client_id, then feeds back:
//     definite error (4xx: -2010, -1013, ...)   -> om.on_place_rejected(id, code, now)
//     5xx / timeout / -1007                      -> om.on_place_unknown(id, now)
//     ack / RESULT / FULL response, user stream  -> om.on_execution_report(report, now)
//     GET /order result for needs_query orders   -> om.on_order_query(order_or_nullopt, id, now)
//     after (re)connect: openOrders + myTrades   -> om.reconcile(input, now)
//   cancel: om.request_cancel(id, now) -> venue sends it -> execution report CANCELED, or
//     om.on_cancel_rejected(id, code, now) / om.on_cancel_unknown(id, now).
//   market data: om.on_mid(symbol, mid, now) marks positions, feeds the gate's band/dead-man and
//     equity limits; other market messages -> gate.on_market_heartbeat(now).
//   user stream: every message or pong -> gate.on_user_stream(now); on disconnect
//     om.mark_unreconciled(), and after re-subscribing reconcile again.
//   timer (~100 ms): if gate.poll(now) == DeadManSignal::CancelAll, or the kill switch was just
//     tripped: om.request_cancel_all({}, now) and one DELETE /openOrders per symbol.
//
// Pointers to Order stay valid while the order is live; a terminal order's slot is recycled
// (oldest first) only when the pool has no free slot. Look orders up by client id.
// Trading thread only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/core/zeroed_array.hpp"
#include "tradingbot/oms/flat_index.hpp"
#include "tradingbot/oms/position_book.hpp"
#include "tradingbot/oms/types.hpp"
#include "tradingbot/risk/order_intent.hpp"
#include "tradingbot/risk/risk_gate.hpp"

namespace tb::oms {

struct Order {
  ClientOrderId client_id;
  std::int64_t exchange_id = -1;  // Binance orderId once known
  std::uint64_t seq = 0;          // local creation sequence
  Symbol symbol;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::Gtc;
  Price price;
  Qty qty;
  OrderStatus status = OrderStatus::PendingNew;
  OrderStatus before_cancel = OrderStatus::New;  // restored when a cancel is rejected
  Qty filled;               // sum of applied fills
  Money filled_quote;       // sum of fill notionals
  Qty exchange_cum_qty;     // highest cumulative qty (z / executedQty) the exchange reported
  std::uint32_t fill_count = 0;
  std::int32_t reject_code = 0;  // Binance error code of a rejected place request
  Nanos created = 0;
  Nanos updated = 0;
  Nanos unknown_since = 0;  // when the place outcome became unknown
  bool needs_query = false; // venue should GET /order: unknown outcome, missing fills, cancel unknown
  bool adopted = false;     // found on the exchange by reconciliation, not created by this run

  [[nodiscard]] Qty remaining() const noexcept { return qty - filled; }
  [[nodiscard]] bool live() const noexcept { return is_live(status); }
  // The exchange reported more filled qty than the fills applied here (a trade report was lost).
  [[nodiscard]] bool missing_fills() const noexcept { return exchange_cum_qty > filled; }
};

struct OmsConfig {
  // Client id prefix for this run (1..15 chars from Binance's id alphabet, so any 64-bit seq fits
  // in 36). Ids are
  // "<prefix>-<seq>"; make the prefix unique per run, e.g. make_run_prefix(wall_clock_ns()).
  std::string run_prefix = "tb";
  std::uint32_t max_orders = 4096;         // order pool (live + retained terminal orders)
  std::uint32_t recent_trade_ids = 65536;  // trade ids remembered for duplicate detection
  // An order whose outcome is unknown is resolved as REJECTED by a "not found" query or by
  // reconciliation only once it is this old (> recvWindow, so it can no longer reach the engine).
  Nanos not_found_grace = 10 * kNanosPerSecond;
  // Exchange open orders this run does not know: adopt them (tracked like ours, adopted=true) or
  // only report them for the operator.
  bool adopt_foreign_orders = true;
};

// "tb" + base-36 seconds of the start time, e.g. "tbT4K2QX": deterministic, unique per start second.
[[nodiscard]] std::string make_run_prefix(Nanos wall_start);

struct SubmitResult {
  risk::RejectReason reason = risk::RejectReason::Accepted;
  const Order* order = nullptr;  // set when accepted
  [[nodiscard]] bool accepted() const noexcept { return reason == risk::RejectReason::Accepted; }
};

enum class CancelResult : std::uint8_t { Requested, NotFound, NotCancelable, AlreadyPending, RateLimited };
[[nodiscard]] std::string_view to_string(CancelResult r) noexcept;

// What on_execution_report did.
enum class ReportStatus : std::uint8_t {
  Applied,           // status and/or fill applied
  Duplicate,         // nothing new (same status, fill already seen)
  Stale,             // an older status arriving late: its cumulative qty is below what is known
                     // (NEW after an immediate FILL), or a live status behind the local live one
                     // (NEW after PARTIALLY_FILLED). Refused and counted in stale_reports, not as an
                     // illegal transition; a new fill it carries is still applied. A report that
                     // contradicts a final state at the same cumulative qty (FILLED -> NEW with z =
                     // qty, FILLED -> CANCELED) is an IllegalTransition.
  IllegalTransition, // the status change was refused and counted (a new fill in it was still applied)
  UnknownOrder,      // no such order here (foreign, or retired long ago); counted
  Invalid,           // malformed report (no ids, non-positive fill qty/price on a TRADE)
};
[[nodiscard]] std::string_view to_string(ReportStatus s) noexcept;

struct ReportResult {
  ReportStatus status = ReportStatus::Applied;
  bool fill_applied = false;
  bool duplicate_fill = false;
  bool qty_mismatch = false;  // exchange cumulative qty disagrees with the sum of fills
  const Order* order = nullptr;
};

struct OmsCounters {
  std::uint64_t submitted = 0;
  std::uint64_t reports = 0;
  std::uint64_t fills = 0;
  std::uint64_t duplicate_fills = 0;
  std::uint64_t duplicate_reports = 0;
  std::uint64_t stale_reports = 0;
  std::uint64_t unknown_order_reports = 0;
  std::uint64_t invalid_reports = 0;
  std::uint64_t illegal_transitions = 0;
  std::uint64_t qty_mismatches = 0;  // z > sum of fills, or a fill beyond the order qty
  std::uint64_t overfills = 0;
  std::uint64_t unknown_outcomes = 0;
  std::uint64_t unknown_resolved = 0;
  std::uint64_t cancels_requested = 0;
  std::uint64_t cancels_rejected = 0;
  std::uint64_t retired = 0;
  std::uint64_t position_errors = 0;  // PositionBook refused a fill (symbol not registered)
};

struct IllegalTransitionRecord {
  ClientOrderId client_id;
  OrderStatus from = OrderStatus::PendingNew;
  OrderStatus to = OrderStatus::PendingNew;
  Nanos time = 0;
};

// Reconciliation input: what the exchange says right now.
struct ReconcileInput {
  std::span<const ExchangeOrder> open_orders;    // GET /openOrders (all symbols the bot trades)
  std::span<const ExchangeTrade> recent_trades;  // GET /myTrades since before the disconnect
  // When the open-orders request was sent (0 = reconcile's `now`). Local orders created later may
  // be missing from the answer without being gone, so they are left alone.
  Nanos as_of = 0;
};

enum class DiffKind : std::uint8_t {
  FillRecovered,       // a trade missed by the stream was applied
  StatusCorrected,     // local status moved to the exchange's (e.g. PendingNew -> New)
  ResolvedFilled,      // live locally, gone on the exchange, fills cover the qty
  ResolvedCanceled,    // acked locally, gone on the exchange: canceled / expired meanwhile
  ResolvedRejected,    // pending/unknown, gone, no fills, older than not_found_grace: never placed
  StillUnknown,        // pending/unknown, gone, too young to conclude: ask again later
  Adopted,             // exchange order this run did not know, now tracked
  ForeignFlagged,      // exchange order this run did not know, reported only
  QtyMismatch,         // exchange executed qty > local fills (trades outside the window)
  IllegalTransition,   // the exchange's status cannot follow the local one; refused
  UnmatchedTrade,      // a trade of an order this run does not know; not applied
};
[[nodiscard]] std::string_view to_string(DiffKind k) noexcept;

struct ReconcileDiff {
  DiffKind kind = DiffKind::StatusCorrected;
  ClientOrderId client_id;
  std::int64_t order_id = -1;
  std::int64_t trade_id = -1;
  OrderStatus from = OrderStatus::PendingNew;
  OrderStatus to = OrderStatus::PendingNew;
};

struct ReconcileReport {
  std::vector<ReconcileDiff> diffs;  // cold path: allocation is fine here
  std::size_t count(DiffKind k) const noexcept;
  bool ready = false;  // ready_for_strategy() after this reconciliation
};

// Sees every change of the bot's orders as it is applied, e.g. to persist it (app's StoreRecorder).
// Defined here, implemented elsewhere, so oms never depends on who listens (no store, no I/O).
// Called on the trading thread from inside the order manager's entry points: implementations
// must not block, must not allocate per call, and must not call back into the order manager.
class OrderObserver {
 public:
  virtual ~OrderObserver() = default;
  // The order was created (PENDING_NEW, adopted or restored), changed status, or its cumulative
  // filled quantity grew without a status change. Exactly once per such change.
  virtual void on_order_changed(const Order& order, Nanos now) noexcept = 0;
  // A new fill (never a duplicate trade id) was applied to `order` and to the PositionBook
  // (which already reflects it). on_order_changed for the same report follows.
  virtual void on_fill_applied(const Order& order, const Fill& fill, Nanos now) noexcept = 0;
};

// An order known from before a restart (the store's last state of it): restore_order() puts it
// back as needing reconciliation.
struct RestoredOrder {
  ClientOrderId client_id;
  std::int64_t exchange_id = -1;
  Symbol symbol;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::Gtc;
  Price price;
  Qty qty;
  OrderStatus status = OrderStatus::New;  // a live status
  Qty filled;
  Money filled_quote;
  Nanos updated = 0;  // when it was last seen changing (becomes created/updated)
};

class OrderManager {
 public:
  // Throws std::invalid_argument on a bad config (start-up). gate and book must outlive this.
  OrderManager(const OmsConfig& config, risk::RiskGate& gate, PositionBook& book);

  // Cold path: symbols the manager may trade (must also be known to gate and book).
  bool add_symbol(const Symbol& symbol);

  // Null to stop observing. The observer must outlive the manager or be reset first.
  void set_observer(OrderObserver* observer) noexcept { observer_ = observer; }

  // Restart recovery (cold path, before the first reconcile): re-creates a live order from its
  // stored state, marked needs_query; ready_for_strategy() turns false until reconcile() (live:
  // openOrders + myTrades) resolves it. Its past fills are already in the PositionBook (restored
  // position), so `filled` is not applied again. False (nothing changed) when the status is not
  // live, the id is already known, the symbol is not registered or the pool is full.
  bool restore_order(const RestoredOrder& restored, Nanos now);

  // ---- strategy side ----
  [[nodiscard]] SubmitResult submit(const OrderIntent& intent, Nanos now) noexcept;
  [[nodiscard]] CancelResult request_cancel(const ClientOrderId& id, Nanos now) noexcept;
  // Marks every live order (of `symbol`, or all when empty) PENDING_CANCEL and returns how many;
  // the venue then sends one DELETE /openOrders per symbol (not rate limited here). Orders whose
  // outcome is unknown are included: the venue cancels them by origClientOrderId.
  std::size_t request_cancel_all(const Symbol& symbol, Nanos now) noexcept;

  // ---- venue side ----
  ReportResult on_execution_report(const ExecutionReport& report, Nanos now) noexcept;
  // Place request definitely failed (HTTP 4xx with a Binance code other than -1007).
  bool on_place_rejected(const ClientOrderId& id, std::int32_t error_code, Nanos now) noexcept;
  // Place request outcome unknown (5xx, timeout, -1007): the order may exist.
  bool on_place_unknown(const ClientOrderId& id, Nanos now) noexcept;
  // Cancel refused (-2011 etc.): back to the status before the cancel; with -2011/-2013 the order
  // may already be gone, so it is also marked needs_query.
  bool on_cancel_rejected(const ClientOrderId& id, std::int32_t error_code, Nanos now) noexcept;
  // Cancel outcome unknown: stays PENDING_CANCEL, marked needs_query.
  bool on_cancel_unknown(const ClientOrderId& id, Nanos now) noexcept;
  // Result of GET /order for `id`: the order, or nullopt for -2013 "does not exist". Returns the
  // order's status afterwards (nullopt if `id` is not known here).
  std::optional<OrderStatus> on_order_query(const ClientOrderId& id, const std::optional<ExchangeOrder>& found,
                                            Nanos now) noexcept;

  // Brings local state in line with the exchange; sets ready_for_strategy() when no order is left
  // in an unknown state. Cold path (allocates the report).
  ReconcileReport reconcile(const ReconcileInput& input, Nanos now);
  // The user stream dropped: strategy must wait for the next reconciliation.
  void mark_unreconciled() noexcept { ready_ = false; }
  [[nodiscard]] bool ready_for_strategy() const noexcept { return ready_; }

  // ---- market data ----
  // Marks the position, feeds the gate (band reference, dead-man) and the equity limits.
  void on_mid(const Symbol& symbol, Price mid, Nanos now) noexcept;

  // ---- queries ----
  [[nodiscard]] const Order* find(const ClientOrderId& id) const noexcept;
  [[nodiscard]] const Order* find_by_exchange_id(const Symbol& symbol, std::int64_t order_id) const noexcept;
  [[nodiscard]] risk::Exposure exposure(const Symbol& symbol) const noexcept;
  [[nodiscard]] std::size_t live_orders() const noexcept { return live_count_; }
  [[nodiscard]] const OmsCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] std::uint64_t illegal_count(OrderStatus from, OrderStatus to) const noexcept {
    return illegal_[static_cast<std::size_t>(from)][static_cast<std::size_t>(to)];
  }
  // The most recent refused transitions (up to kIllegalLog, oldest first).
  static constexpr std::size_t kIllegalLog = 16;
  [[nodiscard]] std::vector<IllegalTransitionRecord> recent_illegal_transitions() const;
  template <class F>
  void for_each_live(F&& f) const {
    for (const Slot& s : slots_)
      if (s.used && s.order.live()) f(s.order);
  }
  template <class F>
  void for_each_needing_query(F&& f) const {
    for (const Slot& s : slots_)
      if (s.used && (s.order.needs_query || (!s.order.live() && s.order.missing_fills()))) f(s.order);
  }
  [[nodiscard]] risk::RiskGate& gate() noexcept { return gate_; }
  [[nodiscard]] PositionBook& book() noexcept { return book_; }

 private:
  // All-zero bytes are an unused slot (used == false): the pool is a ZeroedArray, so only the
  // slots the daemon has used are resident (free_ hands them out lowest first).
  struct Slot {
    Order order;
    std::uint64_t id_hash = 0;  // client_id.hash(), computed once
    std::int32_t sym = -1;      // index into symbols_ (-1: not registered)
    bool used = false;
  };
  [[nodiscard]] Slot& slot_for(const Order& o) noexcept;
  struct SymbolExposure {
    Symbol symbol;
    Qty open_buy;
    Qty open_sell;
    std::uint32_t open_orders = 0;
  };
  // Live contribution of an order to exposure, taken before and re-applied after a change.
  struct Contribution {
    bool live = false;
    Qty remaining;
  };

  [[nodiscard]] std::uint32_t slot_of(const ClientOrderId& id) const noexcept;
  [[nodiscard]] std::uint32_t slot_of_exchange(const Symbol& s, std::int64_t order_id) const noexcept;
  [[nodiscard]] int symbol_index(const Symbol& s) const noexcept;
  [[nodiscard]] std::uint64_t exchange_key(int sym, std::int64_t id) const noexcept;
  std::uint32_t allocate_slot() noexcept;
  void retire(std::uint32_t slot) noexcept;
  Order& create(const Symbol& symbol, Side side, OrderType type, TimeInForce tif, Price price, Qty qty,
                const ClientOrderId& id, std::uint32_t slot, Nanos now) noexcept;
  void learn_exchange_id(std::uint32_t slot, std::int64_t order_id) noexcept;
  [[nodiscard]] Contribution contribution(const Order& o) const noexcept;
  void update_exposure(const Order& o, const Contribution& before) noexcept;
  // Validates and applies a status change; counts and records illegal ones.
  bool transition(Order& o, OrderStatus to, Nanos now) noexcept;
  enum class StatusChange : std::uint8_t { None, Changed, Stale, Illegal };
  // Applies the exchange's status to an order (PendingCancel-aware, detects stale live statuses).
  // `cum` is the cumulative filled qty the exchange reported together with `to`.
  StatusChange apply_exchange_status(Order& o, OrderStatus to, Qty cum, Nanos now) noexcept;
  // Applies one fill once (dedup by trade id). Returns true if it was new.
  bool apply_fill(Order& o, std::int64_t trade_id, Price price, Qty qty, std::int64_t commission_raw,
                  const Asset& commission_asset, bool maker, Nanos time, bool& duplicate) noexcept;
  void make_client_id(std::uint64_t seq, ClientOrderId& out) const noexcept;
  void refresh_ready() noexcept;
  void notify_order(const Order& o, Nanos now) noexcept {
    ++order_notifications_;
    if (observer_ != nullptr) observer_->on_order_changed(o, now);
  }

  OmsConfig config_;
  ClientOrderId prefix_id_;
  risk::RiskGate& gate_;
  PositionBook& book_;
  ZeroedArray<Slot> slots_;
  std::vector<std::uint32_t> free_;           // free slot stack
  std::vector<std::uint32_t> retire_queue_;   // ring of terminal slots, oldest first
  std::size_t retire_head_ = 0;
  std::size_t retire_size_ = 0;
  FlatIndex by_client_id_;
  FlatIndex by_exchange_id_;
  FlatIndex trade_ids_;
  ZeroedArray<std::uint64_t> trade_ring_;     // insertion order of trade_ids_ for eviction
  std::size_t trade_head_ = 0;
  std::vector<SymbolExposure> symbols_;
  std::uint64_t next_seq_ = 1;
  std::size_t live_count_ = 0;
  bool ready_ = false;
  OmsCounters counters_;
  OrderObserver* observer_ = nullptr;
  std::uint64_t order_notifications_ = 0;  // lets an entry point see whether it already notified
  std::array<std::array<std::uint64_t, kOrderStatusCount>, kOrderStatusCount> illegal_{};
  std::array<IllegalTransitionRecord, kIllegalLog> illegal_log_{};
  std::size_t illegal_log_count_ = 0;
};

}  // namespace tb::oms

// PaperVenue: paper trading against the exchange's real order book, mirrored locally.
//
// The exchange's L2 book (kept by the market-data pipeline) is the liquidity. The venue does not
// copy it: it reads the synced book it is handed with every book update, and it sees every
// public trade. Our orders are simulated with a queue position:
//  - A marketable order (MARKET, or a LIMIT priced through the opposite best) takes the displayed
//    opposite levels best first up to its limit, at each level's price (taker fee). IOC/MARKET
//    remainders expire, FOK expires unless the displayed depth covers it all, LIMIT_MAKER that
//    would take is rejected (-2010, like Binance).
//  - A resting order joins the back of its price level: `queue_ahead` = the displayed quantity
//    at its price when it arrives. It fills only when (a) public trades go through its level:
//    a trade AT its price first consumes queue_ahead and fills it with the rest, a trade at a
//    BETTER price than ours (a sell trade below our bid) fills it from the trade's quantity;
//    or (b) the book crosses it (best ask <= our bid): the level was swept, it fills completely.
//    Displayed quantity at our level that shrinks below queue_ahead (cancels ahead of us) moves
//    us up: queue_ahead = min(queue_ahead, displayed). Resting fills are maker fills at our price.
//  - Latency: every place/cancel reaches the simulated exchange `latency` after it was sent,
//    and every report (ack, fill, cancel, reject) reaches the loop `latency` after it happened,
//    through poll(now). The caller supplies time (timers in the daemon, capture times in
//    replay), so the venue has no clock and no Asio, and replay is deterministic.
// Why not submit the mirrored book into book::MatchingEngine as synthetic orders? A depth diff
// carries only a level's new total, so every update would need cancel/replace of synthetic orders
// whose priority against ours is unknowable anyway; the queue-ahead model above states the
// assumption explicitly and costs O(our orders) per event instead of O(levels changed).
// The model ignores our own impact on the public book (liquidity we take is not removed from the
// mirror), which is fine for the small sizes it is meant for.
//
// Fees are paid in the quote asset: notional * fee_bps / 10000 (truncated to 1e-8).
// Trading thread only. Allocation-free after construction while within max_orders.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "tradingbot/book/l2_book.hpp"
#include "tradingbot/market/events.hpp"
#include "tradingbot/venue/venue.hpp"

namespace tb::venue {

struct PaperVenueConfig {
  Nanos latency = 5 * kNanosPerMilli;
  std::int64_t fee_bps = 10;
  oms::Asset fee_asset = *Symbol::parse("USDT");
  std::uint32_t max_orders = 1024;  // resting + in-flight orders
};

struct PaperVenueStats {
  std::uint64_t orders = 0;       // place requests received
  std::uint64_t fills = 0;        // TRADE reports generated
  std::uint64_t rejects = 0;
  std::uint64_t cancels = 0;
  std::uint64_t expired = 0;
  Qty maker_qty;
  Qty taker_qty;
  std::uint64_t dropped = 0;      // requests refused because max_orders was reached
};

class PaperVenue final : public Venue {
 public:
  explicit PaperVenue(const PaperVenueConfig& config);

  [[nodiscard]] std::string_view name() const noexcept override { return "paper"; }
  void set_listener(VenueListener* listener) noexcept override { listener_ = listener; }
  void place(const oms::Order& order, Nanos now) noexcept override;
  void cancel(const Symbol& symbol, const oms::ClientOrderId& id, Nanos now) noexcept override;
  void cancel_all(const Symbol& symbol, Nanos now) noexcept override;
  void poll(Nanos now) noexcept override;
  [[nodiscard]] Nanos next_due() const noexcept override;

  // ---- the mirrored market (the loop forwards its market events) ----
  void on_book_update(const Symbol& symbol, const book::L2Book& book, Nanos now) noexcept;
  void on_book_reset(const Symbol& symbol) noexcept;
  // A public trade. Feed aggTrade and/or trade events: once a symbol has delivered an aggregated
  // trade, its plain trades are ignored so no volume is counted twice.
  void on_trade(const Symbol& symbol, Price price, Qty qty, bool buyer_is_maker, bool aggregated, Nanos now) noexcept;

  // Exchange order ids and trade ids count up from 1 (deterministic replay). A daemon restart
  // must not reuse the ids of the previous run's fills, because the store keeps fills unique
  // by (symbol, trade id) and would drop the new ones as duplicates: the daemon raises the
  // next ids to at least these floors before the first order (see app/trading_persistence).
  void raise_id_floors(std::int64_t next_order_id, std::int64_t next_trade_id) noexcept {
    if (next_order_id > next_order_id_) next_order_id_ = next_order_id;
    if (next_trade_id > next_trade_id_) next_trade_id_ = next_trade_id;
  }
  [[nodiscard]] std::int64_t next_trade_id() const noexcept { return next_trade_id_; }

  [[nodiscard]] const PaperVenueStats& stats() const noexcept { return stats_; }
  [[nodiscard]] std::size_t resting_orders() const noexcept;
  // Queue ahead of a resting order (tests, /status); nullopt when not resting.
  [[nodiscard]] std::optional<Qty> queue_ahead(const oms::ClientOrderId& id) const noexcept;

 private:
  struct SimOrder {
    oms::ClientOrderId id;
    std::int64_t order_id = 0;
    Symbol symbol;
    Side side = Side::Buy;
    OrderType type = OrderType::Limit;
    TimeInForce tif = TimeInForce::Gtc;
    Price price;
    Qty qty;
    Qty filled;
    Money filled_quote;
    Qty queue_ahead;
    bool resting = false;  // arrived and resting on the book
    bool done = false;     // final; removed at the end of the current step
  };
  enum class ActionKind : std::uint8_t { Place, Cancel, CancelAll };
  struct Action {  // a request travelling to the simulated exchange
    Nanos due = 0;
    ActionKind kind = ActionKind::Place;
    Symbol symbol;
    oms::ClientOrderId id;
  };
  enum class OutboundKind : std::uint8_t { Report, PlaceRejected, CancelRejected };
  struct Outbound {  // a report travelling back to the loop
    Nanos due = 0;
    OutboundKind kind = OutboundKind::Report;
    std::int32_t code = 0;
    oms::ExecutionReport report;
  };
  struct BookRef {
    Symbol symbol;
    const book::L2Book* book = nullptr;
    bool agg_trades_seen = false;
  };

  [[nodiscard]] SimOrder* find(const oms::ClientOrderId& id) noexcept;
  [[nodiscard]] const book::L2Book* book_of(const Symbol& symbol) const noexcept;
  void arrive(const Action& a, Nanos now) noexcept;
  void arrive_place(SimOrder& o, Nanos now) noexcept;
  void arrive_cancel(const oms::ClientOrderId& id, Nanos now) noexcept;
  void fill(SimOrder& o, Price price, Qty qty, bool maker, Nanos now) noexcept;
  void report(const SimOrder& o, oms::ExecType exec, oms::OrderStatus status, Nanos now) noexcept;
  void emit(const Outbound& out) noexcept;
  void remove_done() noexcept;

  PaperVenueConfig config_;
  VenueListener* listener_ = nullptr;
  std::vector<SimOrder> orders_;     // reserved to max_orders
  std::vector<Action> actions_;      // FIFO (constant latency keeps it ordered by due)
  std::size_t actions_head_ = 0;
  std::vector<Outbound> outbound_;   // FIFO
  std::size_t outbound_head_ = 0;
  std::vector<BookRef> books_;
  std::array<book::BookLevel, 64> levels_{};  // scratch for walking the opposite side
  std::int64_t next_order_id_ = 1;
  std::int64_t next_trade_id_ = 1;
  PaperVenueStats stats_;
  bool polling_ = false;
};

}  // namespace tb::venue

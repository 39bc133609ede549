// MatchingEngine: the price-time priority order book of one instrument, with Binance spot
// semantics. It powers paper trading and the exchange simulator.
//
// Threading: single owner thread, no locks. Every member function must be called from the
// thread that owns the engine; listener callbacks run on that thread inside the call.
//
// What it does (Binance spot behaviour):
//  - LIMIT GTC/IOC/FOK, MARKET by base quantity or by quote amount, LIMIT_MAKER (post-only).
//  - Price-time priority, partial fills, every trade at the maker's price.
//  - Self-trade prevention by account id with the taker's mode (EXPIRE_TAKER/MAKER/BOTH/NONE).
//  - Filters from InstrumentRules (tick, step, min/max qty and price, min notional) and a
//    PERCENT_PRICE-like band around a reference price (unset reference: no band).
//  - Cancel by order id or client order id; replace keeping priority only when the price is
//    unchanged and the open quantity does not grow; duplicate client ids among the account's
//    open orders are rejected.
//  - Aggregated depth per side kept incrementally (each level holds its total quantity and
//    order count; the sorted level array has the best price at its end), so best prices are
//    O(1) and top-N depth is O(N). update_id() grows by one on every level change.
//
// Performance: orders and levels live in preallocated pools linked by 32-bit indices
// (intrusive FIFO per level), open-addressed id indexes, no allocation per order once the
// pools are big enough (they grow by doubling when a burst exceeds the initial capacity).
// Hot paths return status values and never throw (running out of memory while a pool grows
// inside a noexcept call terminates the process, like any other allocation failure there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "tradingbot/book/order_listener.hpp"
#include "tradingbot/book/order_types.hpp"

namespace tb::book {

class BookSnapshot;

struct EngineCapacity {
  std::uint32_t orders = 1u << 16;  // open orders before the pool first grows
  std::uint32_t levels = 1u << 12;  // price levels (both sides) before the pool first grows
};

class MatchingEngine {
 public:
  MatchingEngine(const InstrumentRules& rules, OrderListener& listener, EngineCapacity capacity = {});
  MatchingEngine(const MatchingEngine&) = delete;
  MatchingEngine& operator=(const MatchingEngine&) = delete;

  // --- requests (owner thread) ---------------------------------------------------------------
  // Validates, then matches and/or rests. Emits the events listed in order_listener.hpp.
  SubmitResult submit(const NewOrder& order, Nanos now = 0) noexcept;
  // Removes an open order of `account`. Returns RejectReason::None on success.
  RejectReason cancel(AccountId account, OrderId order_id, Nanos now = 0) noexcept;
  RejectReason cancel_by_client_id(AccountId account, std::string_view client_order_id, Nanos now = 0) noexcept;
  // Cancel/replace (see ReplaceOrder). Returns RejectReason::None when the order was replaced
  // (it may then have traded, even completely).
  RejectReason replace(const ReplaceOrder& request, Nanos now = 0) noexcept;

  // PERCENT_PRICE reference (Binance uses the average price); zero disables the band.
  void set_reference_price(Price reference) noexcept { reference_price_ = reference; }
  [[nodiscard]] Price reference_price() const noexcept { return reference_price_; }
  [[nodiscard]] const InstrumentRules& rules() const noexcept { return rules_; }
  void set_listener(OrderListener& listener) noexcept { listener_ = &listener; }

  // --- reads (owner thread) ------------------------------------------------------------------
  [[nodiscard]] std::optional<AggregatedLevel> best(Side side) const noexcept;
  // Writes up to out.size() levels of `side`, best first; returns how many were written.
  std::size_t depth(Side side, std::span<AggregatedLevel> out) const noexcept;
  [[nodiscard]] std::size_t level_count(Side side) const noexcept { return sides_[index(side)].size(); }
  [[nodiscard]] std::size_t open_order_count() const noexcept { return open_orders_; }
  [[nodiscard]] UpdateId update_id() const noexcept { return update_id_; }
  [[nodiscard]] OrderId next_order_id() const noexcept { return next_order_id_; }
  [[nodiscard]] TradeId next_trade_id() const noexcept { return next_trade_id_; }
  [[nodiscard]] std::optional<OrderInfo> find_order(OrderId order_id) const noexcept;
  [[nodiscard]] std::optional<OrderInfo> find_order(AccountId account, std::string_view client_order_id) const noexcept;
  // Calls fn(const OrderInfo&) for every open order of `side`, best level first, FIFO within.
  template <class Fn>
  void for_each_order(Side side, Fn&& fn) const {
    const auto& refs = sides_[index(side)];
    for (std::size_t i = refs.size(); i-- > 0;) {
      for (std::uint32_t o = levels_[refs[i].level].head; o != kNil; o = orders_[o].next) fn(info(o));
    }
  }

 private:
  friend class BookSnapshot;
  static constexpr std::uint32_t kNil = 0xFFFF'FFFFu;

  struct OrderSlot {
    OrderId id;
    AccountId account;
    std::int64_t price;
    std::int64_t open;
    std::int64_t filled;
    std::int64_t filled_quote;
    Nanos working_time;
    std::uint32_t prev;
    std::uint32_t next;
    std::uint32_t level;
    Side side;
    OrderType type;
    TimeInForce tif;
    StpMode stp;
    std::uint8_t client_len;
    char client[kMaxClientOrderIdLength];
    [[nodiscard]] std::string_view client_id() const noexcept { return {client, client_len}; }
  };
  struct LevelSlot {
    std::int64_t price;
    std::int64_t quantity;
    std::uint32_t count;
    std::uint32_t head;
    std::uint32_t tail;
  };
  // Sorted per side by key ascending, best at the back; key = price for bids, -price for asks.
  struct LevelRef {
    std::int64_t key;
    std::uint32_t level;
  };
  // Open addressing, linear probing, backward-shift deletion: slot.hash == 0 means empty.
  struct IndexSlot {
    std::uint64_t hash;
    std::uint32_t value;
  };
  class SlotIndex {
   public:
    void reset(std::size_t expected);
    void insert(std::uint64_t hash, std::uint32_t value);
    void erase(std::uint64_t hash, std::uint32_t value) noexcept;
    template <class Eq>
    [[nodiscard]] std::uint32_t find(std::uint64_t hash, Eq&& eq) const noexcept {
      for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
        const IndexSlot& s = slots_[i];
        if (s.hash == 0) return kNil;
        if (s.hash == hash && eq(s.value)) return s.value;
      }
    }
    void clear() noexcept;

   private:
    void grow();
    std::vector<IndexSlot> slots_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
  };

  // The order being matched: a new order, or a re-entering replaced one.
  struct Taker {
    OrderId id;
    AccountId account;
    std::string_view client;
    Side side;
    StpMode stp;
    bool has_limit;
    bool by_quote;
    std::int64_t limit;
    std::int64_t open;   // base quantity still to fill (by_quote: unused)
    std::int64_t quote;  // quote amount still to spend (by_quote only)
    std::int64_t filled;
    std::int64_t filled_quote;
    ExpireReason stp_reason;
    OrderId prevented_by;
    bool stp_expired;
  };

  static constexpr std::size_t index(Side side) noexcept { return side == Side::Buy ? 0 : 1; }
  static constexpr std::int64_t key_of(Side side, std::int64_t price) noexcept {
    return side == Side::Buy ? price : -price;
  }
  static std::uint64_t hash_id(OrderId id) noexcept;
  static std::uint64_t hash_client(AccountId account, std::string_view client) noexcept;

  [[nodiscard]] RejectReason validate_price(std::int64_t price, bool check_band) const noexcept;
  [[nodiscard]] RejectReason validate_qty(std::int64_t qty) const noexcept;
  [[nodiscard]] bool below_min_notional(std::int64_t price, std::int64_t qty) const noexcept;
  [[nodiscard]] RejectReason validate(const NewOrder& order) const noexcept;
  [[nodiscard]] bool would_take(Side side, std::int64_t price) const noexcept;
  [[nodiscard]] bool fok_fillable(const Taker& taker) const noexcept;
  void match(Taker& taker, Nanos now) noexcept;
  void rest(std::uint32_t slot, Nanos now) noexcept;  // link_back + level event
  std::uint32_t link_back(std::uint32_t slot);        // append to the FIFO of its price level
  void unlink(std::uint32_t slot) noexcept;  // from its level (emits nothing; drops empty level)
  void remove_open_order(std::uint32_t slot) noexcept;  // unlink + indexes + free + level event
  std::uint32_t level_for(Side side, std::int64_t price);
  void drop_level(Side side, std::uint32_t level) noexcept;
  void emit_level(Side side, std::int64_t price, std::int64_t qty, std::uint32_t count) noexcept;
  std::uint32_t alloc_order();
  void free_order(std::uint32_t slot) noexcept;
  std::uint32_t alloc_level();
  void index_order(std::uint32_t slot);
  void unindex_order(std::uint32_t slot) noexcept;
  [[nodiscard]] std::uint32_t lookup(AccountId account, OrderId id, std::string_view client) const noexcept;
  [[nodiscard]] OrderInfo info(std::uint32_t slot) const noexcept;
  void reject(RequestKind kind, OrderId id, AccountId account, std::string_view client, RejectReason reason,
              Nanos now) noexcept;
  void clear_book() noexcept;

  InstrumentRules rules_;
  OrderListener* listener_;
  Price reference_price_;
  std::vector<OrderSlot> orders_;
  std::vector<std::uint32_t> free_orders_;
  std::vector<LevelSlot> levels_;
  std::vector<std::uint32_t> free_levels_;
  std::vector<LevelRef> sides_[2];
  SlotIndex by_id_;
  SlotIndex by_client_;
  std::size_t open_orders_ = 0;
  OrderId next_order_id_ = 1;
  TradeId next_trade_id_ = 1;
  UpdateId update_id_ = 0;
  bool busy_ = false;
};

}  // namespace tb::book

// MarketMaker: an inventory-aware two-sided quoter around the L2 mid.
//
// On every book change of a traded symbol it computes
//   shift = mid * skew_bps / 10000 * position / max_position     (inventory skew)
//   bid   = floor_tick(mid - mid * half_spread_bps / 10000 - shift)
//   ask   = ceil_tick (mid + mid * half_spread_bps / 10000 - shift)
// so a long position lowers both quotes (sell more eagerly, buy less eagerly) and a short one
// raises them. Quotes never cross the book: the bid stays at least one tick below the best ask
// and the ask one tick above the best bid. Sizes are order_qty, cut so that a fill can never
// take |position| beyond max_position (the side that would grow inventory past the limit is
// pulled), floored to the step; a side below min notional is not quoted.
// A working quote is replaced only when its price moves by at least
// max(mid * requote_bps / 10000, one tick) or its size changes, which keeps the order and
// cancel rates (and exchange rate limits) low while the mid jitters.
// After a rejection a side waits retry_after before quoting again, so a persistent refusal
// (e.g. max position in the risk gate) does not turn into a flood of rejected intents.
//
// Risks a user must understand: it is a passive liquidity provider, so it is adversely
// selected when the price trends (it keeps buying a falling market until max_position), the
// spread must cover fees (Binance's 0.1% taker / maker fees exceed a 5 bps half spread unless
// discounted), and in fast markets its quotes are picked off before a requote lands.
// Trading thread only.
#pragma once

#include <optional>
#include <vector>

#include "tradingbot/core/result.hpp"
#include "tradingbot/strategy/strategy.hpp"

namespace tb::strategy {

struct MarketMakerParams {
  Qty order_qty = Qty::from_raw(100'000);       // 0.001 base per quote
  Qty max_position = Qty::from_raw(1'000'000);  // 0.01 base: full skew, growing side pulled
  std::int64_t half_spread_bps = 5;             // distance of each quote from the (skewed) mid
  std::int64_t skew_bps = 5;                    // shift of both quotes at |position| = max_position
  std::int64_t requote_bps = 2;                 // minimum move before a working quote is replaced
  Nanos retry_after = 1 * kNanosPerSecond;      // pause of a side after a rejection

  // nullopt when valid, else "strategy.market_maker.<key>: reason".
  [[nodiscard]] std::optional<Error> validate() const;
};

class MarketMaker final : public Strategy {
 public:
  static constexpr std::size_t kMaxSymbols = 32;

  // Throws std::invalid_argument on invalid params or too many symbols (start-up only).
  MarketMaker(const MarketMakerParams& params, const std::vector<Symbol>& symbols);

  [[nodiscard]] std::string_view name() const noexcept override { return "market_maker"; }
  void on_book(const Symbol& symbol, const book::L2Book& book, Context& ctx) override;
  void on_book_reset(const Symbol& symbol, Context& ctx) override;
  void on_order_update(const OrderUpdate& update, Context& ctx) override;

  // Tag of a symbol's bid (index * 2) or ask (index * 2 + 1) quote.
  [[nodiscard]] static constexpr OrderTag tag_of(std::size_t symbol_index, Side side) noexcept {
    return static_cast<OrderTag>(symbol_index * 2 + (side == Side::Buy ? 0 : 1));
  }

  // The quotes the strategy wants for a book and position (zero qty = no quote on that side).
  struct Quotes {
    Price bid_price;
    Qty bid_qty;
    Price ask_price;
    Qty ask_qty;
  };
  [[nodiscard]] std::optional<Quotes> compute_quotes(Price best_bid, Price best_ask, Qty position,
                                                     const Instrument& instrument) const noexcept;

 private:
  struct WorkingQuote {
    bool working = false;        // an order is live or in flight for this tag
    bool cancel_sent = false;
    Price price;
    Qty qty;
    Nanos paused_until = 0;
  };
  struct SymbolState {
    Symbol symbol;
    WorkingQuote side[2];  // [0] bid, [1] ask
  };
  [[nodiscard]] int index_of(const Symbol& symbol) const noexcept;
  void steer(std::size_t index, Side side, Price price, Qty qty, Price threshold, Context& ctx) noexcept;

  MarketMakerParams params_;
  std::vector<SymbolState> symbols_;
};

}  // namespace tb::strategy

#include "tradingbot/strategy/market_maker.hpp"

#include <stdexcept>

namespace tb::strategy {

std::optional<Error> MarketMakerParams::validate() const {
  const auto bad = [](const char* key, const char* why) {
    return Error{std::string("strategy.market_maker.") + key + ": " + why};
  };
  if (!order_qty.is_positive()) return bad("order_qty", "must be positive");
  if (!max_position.is_positive()) return bad("max_position", "must be positive");
  if (order_qty > max_position) return bad("order_qty", "must not exceed max_position");
  if (half_spread_bps < 1 || half_spread_bps > 5'000) return bad("half_spread_bps", "must be between 1 and 5000");
  if (skew_bps < 0 || skew_bps > 5'000) return bad("skew_bps", "must be between 0 and 5000");
  if (requote_bps < 0 || requote_bps > 5'000) return bad("requote_bps", "must be between 0 and 5000");
  if (retry_after < 0) return bad("retry_after_ms", "must not be negative");
  return std::nullopt;
}

MarketMaker::MarketMaker(const MarketMakerParams& params, const std::vector<Symbol>& symbols) : params_(params) {
  if (auto err = params.validate()) throw std::invalid_argument(err->message);
  if (symbols.empty() || symbols.size() > kMaxSymbols) {
    throw std::invalid_argument("strategy.symbols: the market maker needs 1.." + std::to_string(kMaxSymbols) +
                                " symbols");
  }
  symbols_.reserve(symbols.size());
  for (const Symbol& s : symbols) symbols_.push_back(SymbolState{s, {}});
}

int MarketMaker::index_of(const Symbol& symbol) const noexcept {
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].symbol == symbol) return static_cast<int>(i);
  }
  return -1;
}

std::optional<MarketMaker::Quotes> MarketMaker::compute_quotes(Price best_bid, Price best_ask, Qty position,
                                                               const Instrument& instrument) const noexcept {
  if (!best_bid.is_positive() || best_ask <= best_bid) return std::nullopt;
  const Price tick = instrument.tick_size.is_positive() ? instrument.tick_size : Price::from_raw(1);
  const Price mid = mid_of(best_bid, best_ask);
  const std::int64_t half = apply_bps(mid.raw(), params_.half_spread_bps);
  // shift = mid * skew_bps/1e4 * position / max_position, exact in 128 bits.
  const Int128 skew_full = apply_bps(mid.raw(), params_.skew_bps);
  const auto shift = static_cast<std::int64_t>(skew_full * position.raw() / params_.max_position.raw());

  Quotes q;
  q.bid_price = floor_price(Price::from_raw(mid.raw() - half - shift), tick);
  q.ask_price = ceil_price(Price::from_raw(mid.raw() + half - shift), tick);
  // Never cross the book: a quote that would take liquidity is a different strategy.
  q.bid_price = min(q.bid_price, floor_price(best_ask - tick, tick));
  q.ask_price = max(q.ask_price, ceil_price(best_bid + tick, tick));

  const Qty room_long = params_.max_position - position;   // buying more than this breaks the limit
  const Qty room_short = params_.max_position + position;  // selling more than this breaks it
  q.bid_qty = floor_qty(min(params_.order_qty, room_long), instrument.step_size);
  q.ask_qty = floor_qty(min(params_.order_qty, room_short), instrument.step_size);
  if (!q.bid_qty.is_positive() || !q.bid_price.is_positive() ||
      notional(q.bid_price, q.bid_qty) < instrument.min_notional) {
    q.bid_qty = Qty{};
  }
  if (!q.ask_qty.is_positive() || notional(q.ask_price, q.ask_qty) < instrument.min_notional) q.ask_qty = Qty{};
  return q;
}

void MarketMaker::on_book(const Symbol& symbol, const book::L2Book& book, Context& ctx) {
  const int k = index_of(symbol);
  if (k < 0) return;
  const Instrument* instrument = ctx.view.instrument(symbol);
  if (instrument == nullptr) return;
  const auto bid = book.best_bid();
  const auto ask = book.best_ask();
  if (!bid || !ask) return;
  const auto quotes = compute_quotes(bid->price, ask->price, ctx.view.position(symbol), *instrument);
  if (!quotes) return;
  const Price tick = instrument->tick_size.is_positive() ? instrument->tick_size : Price::from_raw(1);
  const Price threshold =
      max(Price::from_raw(apply_bps(mid_of(bid->price, ask->price).raw(), params_.requote_bps)), tick);
  const auto i = static_cast<std::size_t>(k);
  steer(i, Side::Buy, quotes->bid_price, quotes->bid_qty, threshold, ctx);
  steer(i, Side::Sell, quotes->ask_price, quotes->ask_qty, threshold, ctx);
}

void MarketMaker::steer(std::size_t index, Side side, Price price, Qty qty, Price threshold, Context& ctx) noexcept {
  SymbolState& s = symbols_[index];
  WorkingQuote& w = s.side[side == Side::Buy ? 0 : 1];
  const OrderTag tag = tag_of(index, side);
  if (!qty.is_positive()) {
    if (w.working && !w.cancel_sent && ctx.out.cancel(tag, s.symbol)) w.cancel_sent = true;
    return;
  }
  if (w.cancel_sent) return;  // wait for the cancel to finish before quoting again
  if (ctx.now < w.paused_until) return;
  OrderIntent order;
  order.symbol = s.symbol;
  order.side = side;
  order.type = OrderType::Limit;
  order.tif = TimeInForce::Gtc;
  order.price = price;
  order.qty = qty;
  if (!w.working) {
    if (ctx.out.place(tag, order)) {
      w.working = true;
      w.price = price;
      w.qty = qty;
    }
    return;
  }
  const Price move = price > w.price ? price - w.price : w.price - price;
  if (move < threshold && qty == w.qty) return;
  if (ctx.out.replace(tag, order)) {
    w.price = price;
    w.qty = qty;
  }
}

void MarketMaker::on_book_reset(const Symbol& symbol, Context& ctx) {
  const int k = index_of(symbol);
  if (k < 0) return;
  auto& s = symbols_[static_cast<std::size_t>(k)];
  for (int side = 0; side < 2; ++side) {
    WorkingQuote& w = s.side[side];
    const OrderTag tag = tag_of(static_cast<std::size_t>(k), side == 0 ? Side::Buy : Side::Sell);
    if (w.working && !w.cancel_sent && ctx.out.cancel(tag, s.symbol)) w.cancel_sent = true;
  }
}

void MarketMaker::on_order_update(const OrderUpdate& update, Context& ctx) {
  const std::size_t index = update.tag / 2;
  if (index >= symbols_.size()) return;
  WorkingQuote& w = symbols_[index].side[update.tag % 2];
  switch (update.event) {
    case OrderEvent::Working: break;
    case OrderEvent::Done:
      w = WorkingQuote{};
      break;
    case OrderEvent::Rejected:
      w = WorkingQuote{};
      w.paused_until = ctx.now + params_.retry_after;
      break;
  }
}

}  // namespace tb::strategy

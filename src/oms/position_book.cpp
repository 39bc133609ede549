#include "tradingbot/oms/position_book.hpp"

namespace tb::oms {

Price SymbolPosition::avg_entry() const noexcept {
  if (position.is_zero()) return Price{};
  const Int128 scaled = static_cast<Int128>(cost.raw()) * kFixedScale;
  return Price::from_raw(static_cast<std::int64_t>(scaled / position.raw()));
}

namespace {
// ceil(a * b / kFixedScale) for a, b >= 0.
std::int64_t ceil_scaled(std::int64_t a, std::int64_t b) noexcept {
  const Int128 product = static_cast<Int128>(a) * b;
  return static_cast<std::int64_t>((product + kFixedScale - 1) / kFixedScale);
}
}  // namespace

Money SymbolPosition::unrealized_pnl() const noexcept {
  if (!has_mid || position.is_zero()) return Money{};
  return notional(mid, position) - cost;
}

Money SymbolPosition::market_value() const noexcept { return has_mid ? notional(mid, position) : cost; }

PositionBook::PositionBook(Asset quote_currency, Money initial_cash)
    : quote_(quote_currency), initial_cash_(initial_cash), cash_(initial_cash) {
  positions_.reserve(kMaxSymbols);
}

bool PositionBook::add_symbol(const Symbol& symbol, const Asset& base, const Asset& quote) {
  if (find(symbol) != nullptr) return true;
  if (!(quote == quote_) || positions_.size() >= kMaxSymbols) return false;
  SymbolPosition p;
  p.symbol = symbol;
  p.base = base;
  p.quote = quote;
  positions_.push_back(p);
  return true;
}

const SymbolPosition* PositionBook::find(const Symbol& symbol) const noexcept {
  for (const SymbolPosition& p : positions_)
    if (p.symbol == symbol) return &p;
  return nullptr;
}

SymbolPosition* PositionBook::find_mut(const Symbol& symbol) noexcept {
  for (SymbolPosition& p : positions_)
    if (p.symbol == symbol) return &p;
  return nullptr;
}

Qty PositionBook::position(const Symbol& symbol) const noexcept {
  const SymbolPosition* p = find(symbol);
  return p ? p->position : Qty{};
}

void PositionBook::trade(SymbolPosition& p, Qty q, Price price) noexcept {
  if (q.is_zero()) return;
  const Qty pos = p.position;
  const bool opens = pos.is_zero() || (pos.is_positive() == q.is_positive());
  if (opens) {
    p.cost += notional(price, q);
    p.position += q;
    return;
  }
  // Close (part of) the position: close_amt has the sign of pos.
  const Qty abs_q = q.is_negative() ? -q : q;
  const Qty abs_pos = pos.is_negative() ? -pos : pos;
  const Qty close_amt = abs_q >= abs_pos ? pos : -q;
  Money released;
  if (close_amt == pos) {
    released = p.cost;
  } else {
    const Int128 share = static_cast<Int128>(p.cost.raw()) * close_amt.raw() / pos.raw();
    released = Money::from_raw(static_cast<std::int64_t>(share));
  }
  p.realized_pnl += notional(price, close_amt) - released;
  p.cost -= released;
  p.position -= close_amt;
  const Qty rest = q + close_amt;  // what is left after closing (opens the other side)
  if (!rest.is_zero()) {
    p.cost += notional(price, rest);
    p.position += rest;
  }
}

FillStatus PositionBook::on_fill(const Fill& f) noexcept {
  SymbolPosition* p = find_mut(f.symbol);
  if (p == nullptr) return FillStatus::UnknownSymbol;
  if (!f.qty.is_positive() || !f.price.is_positive() || f.commission_raw < 0) return FillStatus::InvalidFill;
  const bool buy = f.side == Side::Buy;
  const Qty signed_qty = buy ? f.qty : -f.qty;
  trade(*p, signed_qty, f.price);
  const Money value = notional(f.price, f.qty);
  cash_ += buy ? -value : value;
  (buy ? p->bought : p->sold) += f.qty;
  p->traded_notional += value;
  ++p->trades;

  if (f.commission_raw == 0) return FillStatus::Applied;
  if (f.commission_asset == p->quote) {
    const Money fee = Money::from_raw(f.commission_raw);
    cash_ -= fee;
    p->fees_quote += fee;
    return FillStatus::Applied;
  }
  if (f.commission_asset == p->base) {
    // Booked as a sale of the fee at the fill price whose proceeds pay the fee: cash unchanged.
    const Qty fee = Qty::from_raw(f.commission_raw);
    trade(*p, -fee, f.price);
    p->fees_base += fee;
    p->fees_base_value += notional(f.price, fee);
    return FillStatus::Applied;
  }
  for (std::size_t k = 0; k < fee_assets_; ++k) {
    if (fees_other_[k].asset == f.commission_asset) {
      fees_other_[k].amount_raw += f.commission_raw;
      return FillStatus::Applied;
    }
  }
  if (fee_assets_ == kMaxFeeAssets) return FillStatus::TooManyFeeAssets;
  fees_other_[fee_assets_].asset = f.commission_asset;
  fees_other_[fee_assets_].amount_raw = f.commission_raw;
  ++fee_assets_;
  return FillStatus::Applied;
}

void PositionBook::mark(const Symbol& symbol, Price mid) noexcept {
  if (SymbolPosition* p = find_mut(symbol); p && mid.is_positive()) {
    p->mid = mid;
    p->has_mid = true;
  }
}

void PositionBook::mark_asset(const Asset& asset, Price price) noexcept {
  for (std::size_t k = 0; k < fee_assets_; ++k) {
    if (fees_other_[k].asset == asset) {
      fees_other_[k].mark = price;
      return;
    }
  }
  // Remember the mark for an asset that has not charged a fee yet.
  if (fee_assets_ < kMaxFeeAssets) {
    fees_other_[fee_assets_].asset = asset;
    fees_other_[fee_assets_].amount_raw = 0;
    fees_other_[fee_assets_].mark = price;
    ++fee_assets_;
  }
}

Money PositionBook::equity() const noexcept {
  Money e = cash_;
  for (const SymbolPosition& p : positions_) e += p.market_value();
  return e - fees_other_value();
}

Money PositionBook::realized_pnl() const noexcept {
  Money m;
  for (const SymbolPosition& p : positions_) m += p.realized_pnl;
  return m;
}
Money PositionBook::unrealized_pnl() const noexcept {
  Money m;
  for (const SymbolPosition& p : positions_) m += p.unrealized_pnl();
  return m;
}
Money PositionBook::fees_quote() const noexcept {
  Money m;
  for (const SymbolPosition& p : positions_) m += p.fees_quote;
  return m;
}
Money PositionBook::fees_base_value() const noexcept {
  Money m;
  for (const SymbolPosition& p : positions_) m += p.fees_base_value;
  return m;
}
Money PositionBook::fees_other_value() const noexcept {
  Money m;
  for (std::size_t k = 0; k < fee_assets_; ++k) m += fees_other_[k].value();
  return m;
}
bool PositionBook::fees_other_unvalued() const noexcept {
  for (std::size_t k = 0; k < fee_assets_; ++k)
    if (fees_other_[k].amount_raw != 0 && !fees_other_[k].mark.is_positive()) return true;
  return false;
}
std::int64_t PositionBook::fee_asset_amount(const Asset& asset) const noexcept {
  for (std::size_t k = 0; k < fee_assets_; ++k)
    if (fees_other_[k].asset == asset) return fees_other_[k].amount_raw;
  return 0;
}

void PositionBook::snapshot(Nanos now, PortfolioSnapshot& out) const {
  out.time = now;
  out.quote = quote_;
  out.cash = cash_;
  out.equity = equity();
  out.realized_pnl = realized_pnl();
  out.unrealized_pnl = unrealized_pnl();
  out.fees_quote = fees_quote();
  out.fees_base_value = fees_base_value();
  out.fees_other_value = fees_other_value();
  out.peak_equity = tracker_.initialized() ? tracker_.peak() : out.equity;
  out.drawdown = tracker_.initialized() ? tracker_.drawdown() : Money{};
  out.drawdown_bps = tracker_.drawdown_bps();
  out.day_pnl = tracker_.initialized() ? tracker_.day_pnl() : Money{};
  out.positions.assign(positions_.begin(), positions_.end());
  out.fees_other.assign(fees_other_.begin(), fees_other_.begin() + static_cast<std::ptrdiff_t>(fee_assets_));
}

bool PositionBook::restore_position(const Symbol& symbol, Qty position, Price avg_entry, Money realized_pnl) noexcept {
  SymbolPosition* p = find_mut(symbol);
  if (p == nullptr) return false;
  cash_ += p->cost - p->realized_pnl;  // undo a previous restore of the same symbol
  const std::int64_t pos = position.raw();
  const std::int64_t magnitude = pos < 0 ? -pos : pos;
  const std::int64_t cost = pos == 0 ? 0 : ceil_scaled(avg_entry.raw() < 0 ? 0 : avg_entry.raw(), magnitude);
  p->position = position;
  p->cost = Money::from_raw(pos < 0 ? -cost : cost);
  p->realized_pnl = realized_pnl;
  cash_ += realized_pnl - p->cost;
  return true;
}

}  // namespace tb::oms

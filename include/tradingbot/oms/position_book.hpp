// PositionBook: positions, average entry price, realized and unrealized PnL, fees, cash and
// equity of the bot's account in one quote currency (e.g. USDT), exact in 1e-8 fixed point, plus
// peak equity and drawdown. Fed with fills by the order manager and with mids by the app.
//
// Accounting method: AVERAGE COST. Each symbol keeps a signed position and a signed cost basis
// (quote paid for a long, minus quote received for a short). A fill that grows |position| adds
// its notional to the cost; one that shrinks it releases cost * closed / position (128-bit,
// truncated toward zero; closing the whole position releases exactly the remaining cost) and
// realizes notional(fill) - released cost. A fill through zero closes the old side first and
// opens the rest at the fill price. avg_entry = cost / position.
//
// Fees, by commission asset:
//   quote (USDT)  -> cash -= n, fees_quote += n.
//   base  (BTC)   -> the base never arrived: booked as a sale of n at the fill price whose
//                    proceeds pay the fee (position -= n, fees_base += n, fees_base_value +=
//                    n * price); cash is unchanged.
//   other (BNB)   -> tracked per asset in fees_other; valued with mark_asset() when a price is
//                    known (else valued zero and `fees_other_unvalued` says so).
// realized_pnl and unrealized_pnl are gross of fees. The identity the tests check:
//   equity = cash + sum(mid * position) - fees_other_value
//          = initial_cash + realized + unrealized - fees_quote - fees_base_value - fees_other_value
// A symbol without a mid is marked at its average entry (unrealized 0).
//
// Trading thread only; snapshot() copies into a caller-owned struct for /status and the store.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/oms/types.hpp"
#include "tradingbot/risk/equity_tracker.hpp"

namespace tb::oms {

struct SymbolPosition {
  Symbol symbol;
  Asset base;
  Asset quote;
  Qty position;           // signed base quantity
  Money cost;             // signed cost basis of the open position
  Money realized_pnl;     // gross of fees
  Money fees_quote;       // commissions paid in the quote asset
  Qty fees_base;          // commissions paid in the base asset
  Money fees_base_value;  // ... valued at the fill price
  Qty bought;             // gross traded volume
  Qty sold;
  Money traded_notional;
  std::uint64_t trades = 0;
  Price mid;
  bool has_mid = false;

  // cost / position, truncated toward zero; zero when flat.
  [[nodiscard]] Price avg_entry() const noexcept;
  // notional(mid, position) - cost; zero without a mid.
  [[nodiscard]] Money unrealized_pnl() const noexcept;
  // What the position is worth now (mid, or cost without a mid).
  [[nodiscard]] Money market_value() const noexcept;
};

struct FeeAssetTotal {
  Asset asset;
  std::int64_t amount_raw = 0;  // 1e-8 units of `asset`
  Price mark;                   // quote per unit of asset (zero = unknown)
  [[nodiscard]] Money value() const noexcept { return notional(mark, Qty::from_raw(amount_raw)); }
};

struct PortfolioSnapshot {
  Nanos time = 0;
  Asset quote;
  Money cash;
  Money equity;
  Money realized_pnl;
  Money unrealized_pnl;
  Money fees_quote;
  Money fees_base_value;
  Money fees_other_value;
  Money peak_equity;
  Money drawdown;
  std::int64_t drawdown_bps = 0;
  Money day_pnl;
  std::vector<SymbolPosition> positions;
  std::vector<FeeAssetTotal> fees_other;
};

enum class FillStatus : std::uint8_t { Applied, UnknownSymbol, InvalidFill, TooManyFeeAssets };

class PositionBook {
 public:
  static constexpr std::size_t kMaxSymbols = 64;
  static constexpr std::size_t kMaxFeeAssets = 8;

  PositionBook(Asset quote_currency, Money initial_cash);

  // Cold path. False if the symbol's quote differs from the book's currency or the table is full.
  // Re-adding a known symbol is a no-op returning true.
  bool add_symbol(const Symbol& symbol, const Asset& base, const Asset& quote);

  // Applies one fill (the order manager has already removed duplicates). Never allocates.
  FillStatus on_fill(const Fill& fill) noexcept;
  void mark(const Symbol& symbol, Price mid) noexcept;

  // Restart recovery (cold path, before any fill of this run). Sets the symbol's position,
  // average entry and realized PnL from the store's last PositionRecord; position, avg_entry()
  // and realized_pnl come back exactly. The record has no cost basis, so the cost is rebuilt as
  // the smallest |cost| whose avg_entry() is exactly `avg_entry` (it differs from the original
  // by less than |position| * 1e-8 quote units). Cash moves by realized - cost, so that without
  // a stored balance equity = initial_cash + realized + unrealized (fees paid before the
  // restart are not in PositionRecord: restore_cash() with the stored quote balance covers
  // them). Fee and volume totals restart at zero. False if the symbol is not registered.
  bool restore_position(const Symbol& symbol, Qty position, Price avg_entry, Money realized_pnl) noexcept;
  // Restart recovery: the quote balance the bot's account had (paper: its last BalanceRecord).
  void restore_cash(Money cash) noexcept { cash_ = cash; }
  // Price of a fee asset (BNB) in the quote currency, to value fees_other.
  void mark_asset(const Asset& asset, Price price) noexcept;
  // Feeds the peak / drawdown / day tracker with equity() at `now` (wall clock).
  void update_equity(Nanos now) noexcept { tracker_.update(now, equity()); }

  [[nodiscard]] const SymbolPosition* find(const Symbol& symbol) const noexcept;
  [[nodiscard]] Qty position(const Symbol& symbol) const noexcept;
  [[nodiscard]] const Asset& quote() const noexcept { return quote_; }
  [[nodiscard]] Money cash() const noexcept { return cash_; }
  [[nodiscard]] Money initial_cash() const noexcept { return initial_cash_; }
  [[nodiscard]] Money equity() const noexcept;
  [[nodiscard]] Money realized_pnl() const noexcept;
  [[nodiscard]] Money unrealized_pnl() const noexcept;
  [[nodiscard]] Money fees_quote() const noexcept;
  [[nodiscard]] Money fees_base_value() const noexcept;
  [[nodiscard]] Money fees_other_value() const noexcept;
  [[nodiscard]] bool fees_other_unvalued() const noexcept;
  [[nodiscard]] std::int64_t fee_asset_amount(const Asset& asset) const noexcept;
  [[nodiscard]] const risk::EquityTracker& tracker() const noexcept { return tracker_; }
  [[nodiscard]] const std::vector<SymbolPosition>& positions() const noexcept { return positions_; }

  // Copies everything into `out`, reusing its vectors' capacity.
  void snapshot(Nanos now, PortfolioSnapshot& out) const;

 private:
  SymbolPosition* find_mut(const Symbol& symbol) noexcept;
  static void trade(SymbolPosition& p, Qty signed_qty, Price price) noexcept;

  Asset quote_;
  Money initial_cash_;
  Money cash_;
  std::vector<SymbolPosition> positions_;  // reserved to kMaxSymbols
  std::array<FeeAssetTotal, kMaxFeeAssets> fees_other_{};
  std::size_t fee_assets_ = 0;
  risk::EquityTracker tracker_;
};

}  // namespace tb::oms

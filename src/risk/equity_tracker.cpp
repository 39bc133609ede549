#include "tradingbot/risk/equity_tracker.hpp"

namespace tb::risk {

void EquityTracker::update(Nanos wall_now, Money equity) noexcept {
  const std::int64_t today = utc_day(wall_now);
  if (!initialized_) {
    rebase(wall_now, equity);
    return;
  }
  equity_ = equity;
  if (today != day_) {
    day_ = today;
    day_start_ = equity;
  }
  if (equity > peak_) peak_ = equity;
}

void EquityTracker::rebase(Nanos wall_now, Money equity) noexcept {
  initialized_ = true;
  equity_ = equity;
  peak_ = equity;
  day_start_ = equity;
  day_ = utc_day(wall_now);
}

std::int64_t EquityTracker::drawdown_bps() const noexcept {
  if (!peak_.is_positive()) return 0;
  const Int128 dd = static_cast<Int128>(drawdown().raw()) * 10'000;
  return static_cast<std::int64_t>(dd / peak_.raw());
}

}  // namespace tb::risk

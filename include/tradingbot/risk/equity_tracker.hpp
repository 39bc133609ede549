// EquityTracker: peak equity, drawdown from that peak and profit since the start of the UTC
// day, fed with (wall-clock now, equity) pairs. Used by RiskGate for the daily-loss and drawdown
// limits and by oms::PositionBook for its snapshot, so both report the same numbers.
// Pure value logic, trading thread only.
#pragma once

#include <cstdint>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"

namespace tb::risk {

inline constexpr Nanos kNanosPerDay = 86'400 * kNanosPerSecond;

// UTC day number of a Unix-epoch timestamp (floor division, so pre-1970 times work too).
[[nodiscard]] constexpr std::int64_t utc_day(Nanos wall_ns) noexcept {
  return wall_ns >= 0 ? wall_ns / kNanosPerDay : -((-wall_ns + kNanosPerDay - 1) / kNanosPerDay);
}

class EquityTracker {
 public:
  // The first update sets peak and day start to that equity. A new UTC day re-bases the day
  // start to the equity seen at the first update of that day.
  void update(Nanos wall_now, Money equity) noexcept;
  // Forget the history: peak and day start become `equity` (operator acknowledged the losses).
  void rebase(Nanos wall_now, Money equity) noexcept;

  [[nodiscard]] bool initialized() const noexcept { return initialized_; }
  [[nodiscard]] Money equity() const noexcept { return equity_; }
  [[nodiscard]] Money peak() const noexcept { return peak_; }
  // peak - equity (>= 0).
  [[nodiscard]] Money drawdown() const noexcept { return peak_ - equity_; }
  // Drawdown in basis points of the peak (0 when the peak is <= 0).
  [[nodiscard]] std::int64_t drawdown_bps() const noexcept;
  [[nodiscard]] Money day_start_equity() const noexcept { return day_start_; }
  // equity - day start (negative = loss today).
  [[nodiscard]] Money day_pnl() const noexcept { return equity_ - day_start_; }
  [[nodiscard]] std::int64_t day() const noexcept { return day_; }

 private:
  bool initialized_ = false;
  Money equity_;
  Money peak_;
  Money day_start_;
  std::int64_t day_ = 0;
};

}  // namespace tb::risk

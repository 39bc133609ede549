// RateLimitTracker: keeps this process under Binance's fixed-window limits (reference section 5,
// pitfall 13.5) so requests are delayed BEFORE a 429, and honours 429/418 when they happen anyway.
// Fed by exchangeInfo `rateLimits`, by REST response headers (X-MBX-USED-WEIGHT-<n><S|M|H|D>,
// X-MBX-ORDER-COUNT-<n><S|M|H|D>), by WS API `rateLimits` arrays, and by what we send.
// Windows are fixed and aligned to the epoch (1 MINUTE resets at :00, 10 SECOND at :00,:10,...,
// 1 DAY at 00:00 UTC). REQUEST_WEIGHT and RAW_REQUESTS are per IP and shared by REST and the WS
// API, so a 429/418 from either blocks both until its retry time.
// Every call takes `now` (tb::Nanos, Unix epoch wall time, ideally server-corrected) and reads no
// clock. Owned by the trading thread; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tradingbot/core/clock.hpp"

namespace tb::binance {

enum class RateLimitType : std::uint8_t { RequestWeight, Orders, RawRequests };
enum class IntervalUnit : std::uint8_t { Second, Minute, Hour, Day };

[[nodiscard]] std::optional<RateLimitType> parse_rate_limit_type(std::string_view text) noexcept;
[[nodiscard]] std::optional<IntervalUnit> parse_interval_unit(std::string_view text) noexcept;  // SECOND...
[[nodiscard]] std::string_view to_string(RateLimitType type) noexcept;
[[nodiscard]] Nanos interval_length(IntervalUnit unit, std::int32_t num) noexcept;

struct RateLimit {
  RateLimitType type = RateLimitType::RequestWeight;
  IntervalUnit unit = IntervalUnit::Minute;
  std::int32_t interval_num = 1;
  std::int64_t limit = 0;  // 0: unknown (tracked, never blocks)
};

// One `rateLimits` entry of a WS API response: the limit plus the current count.
struct RateLimitUsage {
  RateLimit limit;
  std::int64_t count = 0;
};

// The REST endpoints the bot calls, for the weight table of reference section 5.
enum class Endpoint : std::uint8_t {
  Ping, Time, ExchangeInfo, Depth, Trades, AggTrades, Klines, AvgPrice, TickerPrice, TickerBookTicker,
  Ticker24hr, OrderNew, OrderTest, OrderCancel, OpenOrdersCancel, OrderQuery, OpenOrders, AllOrders,
  Account, MyTrades, RateLimitOrder, WsApiConnect
};

// Request weight. `n` refines it where the reference says so: depth -> limit; ticker/price,
// ticker/bookTicker, ticker/24hr -> number of symbols (0 = all); openOrders -> 1 with a symbol,
// 0 without; myTrades -> 1 with orderId; order/test -> 1 with computeCommissionRates.
// Successful new orders and cancels cost 0 since 2026-04-02; this returns what a FAILED one costs
// (1), which is what must be budgeted before sending.
[[nodiscard]] std::int32_t endpoint_weight(Endpoint endpoint, std::int32_t n = 1) noexcept;
// Whether the request counts toward the ORDERS (unfilled order count) limits.
[[nodiscard]] constexpr bool counts_as_order(Endpoint e) noexcept { return e == Endpoint::OrderNew; }

enum class RateDecision : std::uint8_t { Ok, WeightExhausted, OrdersExhausted, RawExhausted, Throttled429, Banned418 };
[[nodiscard]] std::string_view to_string(RateDecision decision) noexcept;

class RateLimitTracker {
 public:
  static constexpr std::size_t kMaxLimits = 12;

  // Starts with the documented defaults (REQUEST_WEIGHT 6000/1m, ORDERS 50/10s and 160000/1d,
  // RAW_REQUESTS 300000/5m); exchangeInfo replaces them. `utilization` is the share of each limit
  // we allow ourselves (0.9: stop at 90%), leaving room for requests in flight.
  explicit RateLimitTracker(double utilization = 0.9) noexcept;

  // Replaces the limits (from exchangeInfo.rateLimits). Counts of matching windows are kept.
  void set_limits(const RateLimit* limits, std::size_t n) noexcept;
  [[nodiscard]] std::size_t limit_count() const noexcept { return count_; }
  [[nodiscard]] const RateLimit& limit(std::size_t i) const noexcept { return slots_[i].limit; }
  // Current count in the window containing `now` (0 after the window rolled over).
  [[nodiscard]] std::int64_t used(std::size_t i, Nanos now) const noexcept;
  // Used weight of the 1-minute REQUEST_WEIGHT window (what /status shows), or -1 if untracked.
  [[nodiscard]] std::int64_t used_weight_1m(Nanos now) const noexcept;

  // Before sending: may a request of `weight` (and `orders` new orders) go out at `now`?
  [[nodiscard]] RateDecision can_send(std::int32_t weight, Nanos now, std::int32_t orders = 0) const noexcept;
  // The earliest time it may go out (now when it may go now).
  [[nodiscard]] Nanos delay_until(std::int32_t weight, Nanos now, std::int32_t orders = 0) const noexcept;
  // After sending: count it locally until the server's headers say otherwise. raw requests +1.
  void on_sent(std::int32_t weight, Nanos now, std::int32_t orders = 0) noexcept;

  // One response header; returns true if it was a rate-limit header. Names are matched
  // case-insensitively (HTTP). Server counts only ever raise our count within a window.
  bool on_header(std::string_view name, std::string_view value, Nanos now) noexcept;
  // HTTP status + Retry-After (seconds; nullopt when absent). 429: all REST/WS-API traffic waits
  // Retry-After (or until the next minute when absent); 418: banned until Retry-After ends
  // (5 minutes assumed if absent - bans start at 2 min and escalate).
  void on_http_status(int status, std::optional<std::int64_t> retry_after_s, Nanos now) noexcept;
  // WS API 429/418: error.data.retryAfter is an epoch-ms timestamp.
  void on_ws_api_status(int status, std::optional<std::int64_t> retry_after_epoch_ms, Nanos now) noexcept;
  // A WS API response's rateLimits array: limits and counts as the server sees them.
  void on_usage(const RateLimitUsage* usage, std::size_t n, Nanos now) noexcept;

  [[nodiscard]] bool banned(Nanos now) const noexcept { return now < banned_until_; }
  [[nodiscard]] Nanos blocked_until() const noexcept { return blocked_until_ > banned_until_ ? blocked_until_ : banned_until_; }

 private:
  struct Slot {
    RateLimit limit;
    std::int64_t window_index = 0;  // floor(now / window length) of `count`
    std::int64_t count = 0;
  };
  Slot* find(RateLimitType type, IntervalUnit unit, std::int32_t num) noexcept;
  Slot* find_or_add(RateLimitType type, IntervalUnit unit, std::int32_t num) noexcept;
  [[nodiscard]] std::int64_t count_at(const Slot& s, Nanos now) const noexcept;
  void raise(Slot& s, std::int64_t count, Nanos now) noexcept;
  void add(Slot& s, std::int64_t amount, Nanos now) noexcept;

  std::array<Slot, kMaxLimits> slots_{};
  std::size_t count_ = 0;
  double utilization_;
  Nanos blocked_until_ = 0;  // 429
  Nanos banned_until_ = 0;   // 418
};

}  // namespace tb::binance

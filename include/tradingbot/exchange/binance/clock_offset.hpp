// ClockOffsetEstimator: how far the exchange's clock is from ours, from GET /api/v3/time (or WS
// API `time`) round trips (reference section 13.1). Each sample is (t0 = local wall time when the
// request was sent, serverTime in ms, t1 = local wall time when the answer arrived);
// offset = serverTime - (t0 + t1) / 2, uncertain by ±RTT/2 (+0.5 ms of server rounding). The
// estimator keeps the last `window` samples and trusts the one with the lowest RTT, since queueing
// delay only ever inflates a round trip.
// All times are parameters (tb::Nanos, Unix epoch): no clock is read inside, so tests and replay
// control time. Owned by the trading thread; not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tradingbot/core/clock.hpp"

namespace tb::binance {

enum class ClockStatus : std::uint8_t {
  Ok,
  NoSample,        // never synced: refuse to trade
  Stale,           // the best sample is older than max_sample_age
  RttTooHigh,      // best RTT too large: the offset is too uncertain
  OffsetTooLarge,  // local clock is off by more than max_abs_offset: NTP is broken
};
[[nodiscard]] std::string_view to_string(ClockStatus status) noexcept;

struct ClockOffsetConfig {
  Nanos max_sample_age = 10 * 60 * kNanosPerSecond;  // resync every few minutes keeps this fresh
  Nanos request_bias = 5 * kNanosPerMilli;           // timestamps run this far behind server time
  Nanos max_rtt = 1000 * kNanosPerMilli;             // larger RTT: uncertainty too big
  Nanos max_abs_offset = 1000 * kNanosPerMilli;      // trading refused beyond this skew
};

struct ClockSample {
  Nanos local_send = 0;     // t0
  Nanos local_receive = 0;  // t1
  Nanos offset = 0;         // server - local midpoint
  Nanos rtt = 0;            // t1 - t0
};

class ClockOffsetEstimator {
 public:
  static constexpr std::size_t kWindow = 8;

  explicit ClockOffsetEstimator(ClockOffsetConfig config = {}) noexcept : config_(config) {}

  // False (and ignored) when t1 < t0 or the server time is not positive.
  bool add_sample(Nanos t0_local_send, std::int64_t server_time_ms, Nanos t1_local_receive) noexcept;

  [[nodiscard]] bool synced() const noexcept { return count_ > 0; }
  // The lowest-RTT sample among the last kWindow that are at most max_sample_age older than the
  // newest one (zero offset when none). Chosen when a sample arrives: every order's timestamp
  // reads it.
  [[nodiscard]] const ClockSample& best() const noexcept { return best_; }
  [[nodiscard]] Nanos offset() const noexcept { return best().offset; }
  [[nodiscard]] Nanos rtt() const noexcept { return best().rtt; }

  // Estimated server time at local wall time `now`.
  [[nodiscard]] Nanos server_time(Nanos now) const noexcept { return now + offset(); }
  // The `timestamp` parameter for a request sent at `now`: server time minus the bias, in ms.
  [[nodiscard]] std::int64_t timestamp_for_request(Nanos now) const noexcept;

  // The current estimate was proven wrong (Binance answered -1021): keep using it until the next
  // sample arrives, then forget every earlier sample, so a stale low-RTT sample cannot outvote
  // the clock's new position.
  void distrust_current_samples() noexcept { discard_on_next_sample_ = count_ > 0; }

  // Whether the clock is trustworthy enough to trade at `now`.
  [[nodiscard]] ClockStatus check(Nanos now) const noexcept;

  [[nodiscard]] const ClockOffsetConfig& config() const noexcept { return config_; }

 private:
  ClockOffsetConfig config_;
  std::array<ClockSample, kWindow> samples_{};
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  bool discard_on_next_sample_ = false;
  ClockSample best_{};

  [[nodiscard]] ClockSample choose_best() const noexcept;
};

}  // namespace tb::binance

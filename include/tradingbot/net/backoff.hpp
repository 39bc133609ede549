// Backoff: reconnect delays, exponential with "full jitter" (AWS architecture blog): attempt n
// waits a uniform random time in [min_delay, min(max_delay, initial * multiplier^n)]. The jitter
// spreads reconnects of many connections so they never hammer the exchange in lock-step (Binance
// allows 300 connection attempts per 5 minutes per IP). Deterministic for a given seed: the RNG
// is a SplitMix64 written here, so a seed gives the same delays on every platform.
// The owner calls reset() once a connection has proved healthy (see ReconnectingWebSocket).
// Plain value type, no I/O: whichever thread owns it (the trading thread in the daemon).
#pragma once

#include <cstdint>

#include "tradingbot/core/clock.hpp"

namespace tb::net {

struct BackoffOptions {
  Nanos initial_delay = 500 * kNanosPerMilli;  // upper bound of the first draw
  Nanos max_delay = 30 * kNanosPerSecond;      // cap of the upper bound
  Nanos min_delay = 0;                         // floor of every draw (keep 0 for pure full jitter)
  double multiplier = 2.0;
};

class Backoff {
 public:
  explicit Backoff(BackoffOptions options = {}, std::uint64_t seed = 0x9e3779b97f4a7c15ULL) noexcept;

  // Delay before the next attempt; advances the attempt counter.
  [[nodiscard]] Nanos next_delay() noexcept;
  // Upper bound the next draw would use (for logs and tests).
  [[nodiscard]] Nanos current_ceiling() const noexcept;
  // Back to the first attempt's range (after a healthy connection).
  void reset() noexcept { attempt_ = 0; }
  [[nodiscard]] std::uint32_t attempts() const noexcept { return attempt_; }
  [[nodiscard]] const BackoffOptions& options() const noexcept { return options_; }

 private:
  std::uint64_t next_random() noexcept;

  BackoffOptions options_;
  std::uint64_t state_;
  std::uint32_t attempt_ = 0;
};

}  // namespace tb::net

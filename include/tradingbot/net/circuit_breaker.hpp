// CircuitBreaker: stops calling a dependency that keeps failing, then probes it carefully.
//   closed    -> every call allowed; trips to open after `consecutive_failures` failures in a
//                row, or when the failure ratio over the last `ratio_window` outcomes reaches
//                `failure_ratio` (once at least `ratio_min_samples` outcomes are known).
//   open      -> every call refused until `open_duration` has passed since the trip.
//   half_open -> at most `half_open_max_probes` calls in flight; `half_open_successes`
//                successes close it, any failure opens it again (a fresh cool-down).
// Generic (REST fallback, WS health, DB): no I/O; time is the `now` parameter (monotonic ns).
// Every call that allow() let through must be reported with on_success() or on_failure().
// Not thread-safe: used by the thread that owns it (the trading thread); publish state_name()
// in snapshots for /status and /metrics.
#pragma once

#include <cstdint>
#include <string_view>

#include "tradingbot/core/clock.hpp"

namespace tb::net {

struct CircuitBreakerOptions {
  std::uint32_t consecutive_failures = 5;  // 0 disables this trigger
  double failure_ratio = 0.0;              // 0 disables; e.g. 0.5 = half of the window failed
  std::uint32_t ratio_window = 20;         // outcomes considered for the ratio (<= 64)
  std::uint32_t ratio_min_samples = 10;
  Nanos open_duration = 30 * kNanosPerSecond;
  std::uint32_t half_open_max_probes = 1;
  std::uint32_t half_open_successes = 2;
};

class CircuitBreaker {
 public:
  enum class State : std::uint8_t { closed, open, half_open };

  explicit CircuitBreaker(CircuitBreakerOptions options = {}) noexcept;

  // May a call proceed now? In half-open this takes one probe slot.
  [[nodiscard]] bool allow(Nanos now) noexcept;
  void on_success(Nanos now) noexcept;
  void on_failure(Nanos now) noexcept;

  // State as of `now` (an open breaker whose cool-down is over reads as half_open).
  [[nodiscard]] State state(Nanos now) noexcept;
  [[nodiscard]] static std::string_view state_name(State state) noexcept;
  // Numeric encoding for Prometheus gauges: closed 0, half_open 1, open 2.
  [[nodiscard]] static int state_value(State state) noexcept;

  struct Stats {
    std::uint64_t trips = 0;       // closed/half_open -> open transitions
    std::uint64_t rejected = 0;    // allow() answered false
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
  };
  [[nodiscard]] const Stats& stats() const noexcept { return stats_; }
  [[nodiscard]] Nanos opened_at() const noexcept { return opened_at_; }

 private:
  void trip(Nanos now) noexcept;
  void close() noexcept;
  void record_outcome(bool failure) noexcept;
  [[nodiscard]] bool ratio_exceeded() const noexcept;

  CircuitBreakerOptions options_;
  State state_ = State::closed;
  Nanos opened_at_ = 0;
  std::uint32_t consecutive_failures_ = 0;
  std::uint32_t probes_in_flight_ = 0;
  std::uint32_t probe_successes_ = 0;
  std::uint64_t window_bits_ = 0;  // 1 = failure, newest in bit 0
  std::uint32_t window_count_ = 0;
  Stats stats_;
};

}  // namespace tb::net

// SlidingWindowLimiter: at most `limit` events in any window of `window` nanoseconds, using the
// caller's `now`. Keeps the timestamps of the last `limit` accepted events in a ring allocated
// once at construction, so try_acquire() never allocates. An event at time t counts against
// every window that contains t, i.e. until now >= t + window (exactly `window` later it has
// left the window). Trading thread only (not thread-safe).
#pragma once

#include <cstdint>
#include <vector>

#include "tradingbot/core/clock.hpp"

namespace tb::risk {

class SlidingWindowLimiter {
 public:
  SlidingWindowLimiter() = default;
  // limit == 0 disables the limiter (every acquire succeeds). window must be > 0 when limit > 0.
  SlidingWindowLimiter(std::uint32_t limit, Nanos window);

  // Records an event at `now` and returns true if it fits; returns false (and records nothing)
  // when `limit` events already lie in (now - window, now]. `now` must not go backwards by more
  // than a window; an earlier `now` is treated as equal to the latest one seen.
  [[nodiscard]] bool try_acquire(Nanos now) noexcept;
  // Would an event at `now` fit? Does not record anything.
  [[nodiscard]] bool would_allow(Nanos now) const noexcept;
  // Events that still lie in the window ending at `now`.
  [[nodiscard]] std::uint32_t in_window(Nanos now) const noexcept;
  [[nodiscard]] std::uint32_t limit() const noexcept { return limit_; }
  [[nodiscard]] Nanos window() const noexcept { return window_; }
  void reset() noexcept { head_ = 0; size_ = 0; }

 private:
  std::vector<Nanos> ring_;
  std::uint32_t limit_ = 0;
  Nanos window_ = 0;
  std::uint32_t head_ = 0;  // index of the oldest timestamp
  std::uint32_t size_ = 0;
  Nanos latest_ = 0;
};

}  // namespace tb::risk

// Time in one unit everywhere: signed 64-bit nanoseconds.
// Wall time (Unix epoch) is for timestamps that leave the process (exchange requests, captures,
// logs); monotonic time is for deadlines, ages and latency. Pure logic takes `now` as a parameter
// instead of reading a clock, so replay and tests control time. Any thread may call these.
#pragma once

#include <chrono>
#include <cstdint>

namespace tb {

using Nanos = std::int64_t;

inline constexpr Nanos kNanosPerMicro = 1'000;
inline constexpr Nanos kNanosPerMilli = 1'000'000;
inline constexpr Nanos kNanosPerSecond = 1'000'000'000;

[[nodiscard]] inline Nanos wall_clock_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

[[nodiscard]] inline Nanos monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace tb

#include "tradingbot/net/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace tb::net {

Backoff::Backoff(BackoffOptions options, std::uint64_t seed) noexcept
    : options_(options), state_(seed) {
  options_.initial_delay = std::max<Nanos>(options_.initial_delay, 1);
  options_.max_delay = std::max(options_.max_delay, options_.initial_delay);
  options_.min_delay = std::clamp<Nanos>(options_.min_delay, 0, options_.max_delay);
  options_.multiplier = std::max(options_.multiplier, 1.0);
}

Nanos Backoff::current_ceiling() const noexcept {
  // initial * multiplier^attempt, computed in long double and capped before converting back.
  const long double ceiling = static_cast<long double>(options_.initial_delay) *
                              std::pow(static_cast<long double>(options_.multiplier), attempt_);
  if (ceiling >= static_cast<long double>(options_.max_delay)) return options_.max_delay;
  return std::max(static_cast<Nanos>(ceiling), options_.min_delay);
}

Nanos Backoff::next_delay() noexcept {
  const Nanos ceiling = current_ceiling();
  if (attempt_ < 64) ++attempt_;  // ceiling is capped long before; this only stops overflow
  const auto span = static_cast<std::uint64_t>(ceiling - options_.min_delay) + 1;
  return options_.min_delay + static_cast<Nanos>(next_random() % span);
}

std::uint64_t Backoff::next_random() noexcept {
  // SplitMix64 (Steele, Lea, Flood 2014): tiny, full-period, good enough for jitter.
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace tb::net

#include "tradingbot/net/circuit_breaker.hpp"

#include <algorithm>
#include <bit>

namespace tb::net {

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options) noexcept : options_(options) {
  options_.ratio_window = std::clamp<std::uint32_t>(options_.ratio_window, 1, 64);
  options_.ratio_min_samples = std::clamp<std::uint32_t>(options_.ratio_min_samples, 1, options_.ratio_window);
  options_.half_open_max_probes = std::max<std::uint32_t>(options_.half_open_max_probes, 1);
  options_.half_open_successes = std::max<std::uint32_t>(options_.half_open_successes, 1);
}

CircuitBreaker::State CircuitBreaker::state(Nanos now) noexcept {
  if (state_ == State::open && now - opened_at_ >= options_.open_duration) {
    state_ = State::half_open;
    probes_in_flight_ = 0;
    probe_successes_ = 0;
  }
  return state_;
}

bool CircuitBreaker::allow(Nanos now) noexcept {
  switch (state(now)) {
    case State::closed:
      return true;
    case State::open:
      ++stats_.rejected;
      return false;
    case State::half_open:
      if (probes_in_flight_ < options_.half_open_max_probes) {
        ++probes_in_flight_;
        return true;
      }
      ++stats_.rejected;
      return false;
  }
  return false;
}

void CircuitBreaker::on_success(Nanos now) noexcept {
  ++stats_.successes;
  consecutive_failures_ = 0;
  record_outcome(false);
  if (state(now) == State::half_open) {
    if (probes_in_flight_ > 0) --probes_in_flight_;
    if (++probe_successes_ >= options_.half_open_successes) close();
  }
}

void CircuitBreaker::on_failure(Nanos now) noexcept {
  ++stats_.failures;
  ++consecutive_failures_;
  record_outcome(true);
  switch (state(now)) {
    case State::closed:
      if ((options_.consecutive_failures > 0 && consecutive_failures_ >= options_.consecutive_failures) ||
          ratio_exceeded()) {
        trip(now);
      }
      break;
    case State::half_open:
      trip(now);
      break;
    case State::open:
      break;  // a late report from a call allowed before the trip
  }
}

void CircuitBreaker::trip(Nanos now) noexcept {
  state_ = State::open;
  opened_at_ = now;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  ++stats_.trips;
}

void CircuitBreaker::close() noexcept {
  state_ = State::closed;
  consecutive_failures_ = 0;
  window_bits_ = 0;
  window_count_ = 0;
  probes_in_flight_ = 0;
  probe_successes_ = 0;
}

void CircuitBreaker::record_outcome(bool failure) noexcept {
  window_bits_ = (window_bits_ << 1) | (failure ? 1U : 0U);
  if (window_count_ < options_.ratio_window) ++window_count_;
}

bool CircuitBreaker::ratio_exceeded() const noexcept {
  if (options_.failure_ratio <= 0.0 || window_count_ < options_.ratio_min_samples) return false;
  const std::uint64_t mask =
      options_.ratio_window >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << options_.ratio_window) - 1);
  const auto failures = static_cast<double>(std::popcount(window_bits_ & mask));
  return failures / static_cast<double>(window_count_) >= options_.failure_ratio;
}

std::string_view CircuitBreaker::state_name(State state) noexcept {
  switch (state) {
    case State::closed: return "closed";
    case State::open: return "open";
    case State::half_open: return "half_open";
  }
  return "unknown";
}

int CircuitBreaker::state_value(State state) noexcept {
  switch (state) {
    case State::closed: return 0;
    case State::half_open: return 1;
    case State::open: return 2;
  }
  return -1;
}

}  // namespace tb::net

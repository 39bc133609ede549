#include "tradingbot/exchange/binance/clock_offset.hpp"

namespace tb::binance {

std::string_view to_string(ClockStatus status) noexcept {
  switch (status) {
    case ClockStatus::Ok: return "ok";
    case ClockStatus::NoSample: return "no server time sample yet";
    case ClockStatus::Stale: return "server time sample too old";
    case ClockStatus::RttTooHigh: return "server time round trip too slow";
    case ClockStatus::OffsetTooLarge: return "local clock too far from server time";
  }
  return "unknown";
}

bool ClockOffsetEstimator::add_sample(Nanos t0, std::int64_t server_time_ms, Nanos t1) noexcept {
  if (t1 < t0 || server_time_ms <= 0) return false;
  ClockSample s;
  s.local_send = t0;
  s.local_receive = t1;
  s.rtt = t1 - t0;
  const Nanos midpoint = t0 + s.rtt / 2;  // no overflow: t0 + (t1 - t0) / 2
  s.offset = server_time_ms * kNanosPerMilli - midpoint;
  if (discard_on_next_sample_) {
    // The exchange said our clock is wrong (-1021): older samples describe a clock that has
    // moved, and one of them may still have the lowest RTT. Start the window afresh.
    count_ = 0;
    next_ = 0;
    discard_on_next_sample_ = false;
  }
  samples_[next_] = s;
  next_ = (next_ + 1) % kWindow;
  if (count_ < kWindow) ++count_;
  best_ = choose_best();
  return true;
}

ClockSample ClockOffsetEstimator::choose_best() const noexcept {
  Nanos newest = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    if (samples_[i].local_receive > newest) newest = samples_[i].local_receive;
  }
  ClockSample best{};
  bool have = false;
  for (std::size_t i = 0; i < count_; ++i) {
    const ClockSample& s = samples_[i];
    // Clocks drift: a sample much older than the newest no longer describes the offset.
    if (newest - s.local_receive > config_.max_sample_age) continue;
    // Ties go to the newer sample: the clocks drift, newer is better at equal quality.
    if (!have || s.rtt < best.rtt || (s.rtt == best.rtt && s.local_receive > best.local_receive)) {
      best = s;
      have = true;
    }
  }
  return best;
}

std::int64_t ClockOffsetEstimator::timestamp_for_request(Nanos now) const noexcept {
  const Nanos t = server_time(now) - config_.request_bias;
  // Floor to ms: rounding up could put the timestamp ahead of the server.
  return t >= 0 ? t / kNanosPerMilli : -((-t + kNanosPerMilli - 1) / kNanosPerMilli);
}

ClockStatus ClockOffsetEstimator::check(Nanos now) const noexcept {
  if (count_ == 0) return ClockStatus::NoSample;
  const ClockSample b = best();
  const ClockSample& newest = samples_[(next_ + kWindow - 1) % kWindow];
  if (now - newest.local_receive > config_.max_sample_age) return ClockStatus::Stale;
  if (b.rtt > config_.max_rtt) return ClockStatus::RttTooHigh;
  const Nanos abs_offset = b.offset < 0 ? -b.offset : b.offset;
  if (abs_offset > config_.max_abs_offset) return ClockStatus::OffsetTooLarge;
  return ClockStatus::Ok;
}

}  // namespace tb::binance

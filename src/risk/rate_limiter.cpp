#include "tradingbot/risk/rate_limiter.hpp"

#include <algorithm>
#include <stdexcept>

namespace tb::risk {

SlidingWindowLimiter::SlidingWindowLimiter(std::uint32_t limit, Nanos window)
    : ring_(limit), limit_(limit), window_(window) {
  if (limit > 0 && window <= 0) throw std::invalid_argument("rate limiter window must be > 0");
}

bool SlidingWindowLimiter::would_allow(Nanos now) const noexcept {
  if (limit_ == 0) return true;
  if (size_ < limit_) return true;
  now = std::max(now, latest_);
  // The oldest of the last `limit` events has left the window.
  return now - ring_[head_] >= window_;
}

bool SlidingWindowLimiter::try_acquire(Nanos now) noexcept {
  if (limit_ == 0) return true;
  now = std::max(now, latest_);
  if (size_ < limit_) {
    ring_[(head_ + size_) % limit_] = now;
    ++size_;
  } else {
    if (now - ring_[head_] < window_) return false;
    ring_[head_] = now;  // overwrite the oldest; it becomes the newest
    head_ = (head_ + 1) % limit_;
  }
  latest_ = now;
  return true;
}

std::uint32_t SlidingWindowLimiter::in_window(Nanos now) const noexcept {
  std::uint32_t n = 0;
  for (std::uint32_t k = 0; k < size_; ++k) {
    if (now - ring_[(head_ + k) % limit_] < window_) ++n;
  }
  return n;
}

}  // namespace tb::risk

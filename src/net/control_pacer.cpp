#include "tradingbot/net/control_pacer.hpp"

#include <algorithm>
#include <limits>

namespace tb::net {

ControlPacer::ControlPacer(std::size_t max_per_window, Nanos window)
    : sends_(max_per_window, std::numeric_limits<Nanos>::min() / 2), window_(window) {}

Nanos ControlPacer::next_allowed(Nanos now) const noexcept {
  if (sends_.empty()) return now;
  // The slot we would overwrite is the oldest of the last N sends; a new send keeps the
  // window count <= N once that oldest send has left the window.
  return std::max(now, sends_[oldest_] + window_);
}

void ControlPacer::record(Nanos now) noexcept {
  if (sends_.empty()) return;
  sends_[oldest_] = now;
  oldest_ = (oldest_ + 1) % sends_.size();
}

}  // namespace tb::net

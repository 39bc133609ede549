// ControlPacer: keeps the messages we send on one WebSocket under the exchange's rate limit.
// Binance counts every message a client sends on a market-stream connection (JSON control
// frames such as SUBSCRIBE, pings and pongs) and disconnects above 5 per second. The pacer is a
// sliding-window limiter: at most `max_per_window` sends in any window of `window` length, which
// (unlike a token bucket with burst) also holds for windows that straddle a refill.
// Pongs are sent by Beast itself the moment a ping is read and cannot be delayed, so they are
// recorded with record_forced(): they use up budget and delay the next paced send. The default of
// 4 per second leaves one slot of Binance's 5 for such a pong (the server pings every 20 s).
// Pure logic, time passed in: called on the thread that owns the socket (the trading thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tradingbot/core/clock.hpp"

namespace tb::net {

class ControlPacer {
 public:
  // max_per_window == 0 disables pacing (every send is allowed at once).
  explicit ControlPacer(std::size_t max_per_window = 4, Nanos window = kNanosPerSecond);

  // Earliest time >= now at which a paced send is allowed.
  [[nodiscard]] Nanos next_allowed(Nanos now) const noexcept;
  [[nodiscard]] bool allowed(Nanos now) const noexcept { return next_allowed(now) <= now; }
  // Records a send at `now` (call when the write starts).
  void record(Nanos now) noexcept;
  // Records a send that could not be delayed (automatic pong). Same effect as record().
  void record_forced(Nanos now) noexcept { record(now); }

  [[nodiscard]] std::size_t max_per_window() const noexcept { return sends_.size(); }
  [[nodiscard]] Nanos window() const noexcept { return window_; }

 private:
  std::vector<Nanos> sends_;  // ring of the last max_per_window send times
  std::size_t oldest_ = 0;
  Nanos window_;
};

}  // namespace tb::net

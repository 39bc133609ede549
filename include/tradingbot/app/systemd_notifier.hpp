// SystemdNotifier: tells systemd (Type=notify) when the daemon is ready or stopping, and pings
// the watchdog. Every call is a no-op when the process was not started by systemd
// (NOTIFY_SOCKET unset). Trading thread only: the watchdog ping must come from the trading loop
// itself so that a hung loop stops the pings and systemd restarts the service.
#pragma once

#include <chrono>
#include <string_view>

namespace tb::app {

class SystemdNotifier {
 public:
  SystemdNotifier();

  void ready() const;
  void stopping() const;
  void reloading() const;
  void status(std::string_view text) const;
  void watchdog() const;

  // Half of WatchdogSec, the interval at which watchdog() should be called; zero when the
  // watchdog is not enabled for this process.
  [[nodiscard]] std::chrono::microseconds watchdog_interval() const noexcept { return watchdog_interval_; }

 private:
  std::chrono::microseconds watchdog_interval_{0};
};

}  // namespace tb::app

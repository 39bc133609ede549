// SystemdNotifier: tells systemd (Type=notify) when the daemon is ready or stopping, and pings
// the watchdog. Every call is a no-op when the process was not started by systemd
// (NOTIFY_SOCKET unset). The notify protocol is spoken directly (systemd lists it among its
// stable interfaces; sd_notify(3) describes it byte for byte), as OpenSSH and HAProxy do: libsystemd would load
// seven more libraries (liblzma, libzstd, liblz4, libgcrypt...; ~1 MB resident) to send one
// datagram. Trading thread only: the watchdog ping must come from the trading loop
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

  // Sends one notify-protocol message ("READY=1", "STATUS=...") to $NOTIFY_SOCKET; false when
  // the variable is unset or malformed or the send failed (systemd is then not listening).
  static bool notify(std::string_view message);

 private:
  std::chrono::microseconds watchdog_interval_{0};
};

}  // namespace tb::app

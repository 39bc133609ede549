#include "tradingbot/app/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <string>

namespace tb::app {

SystemdNotifier::SystemdNotifier() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_interval_ = std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
  }
}

void SystemdNotifier::ready() const { sd_notify(0, "READY=1"); }
void SystemdNotifier::stopping() const { sd_notify(0, "STOPPING=1"); }
void SystemdNotifier::reloading() const { sd_notify(0, "RELOADING=1"); }
void SystemdNotifier::watchdog() const { sd_notify(0, "WATCHDOG=1"); }
void SystemdNotifier::status(std::string_view text) const {
  const std::string message = "STATUS=" + std::string(text);
  sd_notify(0, message.c_str());
}

}  // namespace tb::app

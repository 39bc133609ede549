// Daemon: wires the process together for `tradingbot --config FILE` (ARCHITECTURE.md section 1).
// The calling (main) thread becomes the trading thread: it runs the trading io_context, which
// owns all trading state, the signal handling (SIGTERM/SIGINT graceful stop, SIGHUP reload),
// the systemd notifications and watchdog pings, and status publishing. The HTTP server runs on
// its own thread and sees the trading state only through published snapshots.
#pragma once

#include <memory>
#include <string>

#include "tradingbot/config/config.hpp"

namespace tb::app {

class Daemon {
 public:
  Daemon(config::Config config, std::string config_path);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Runs until SIGTERM/SIGINT (returns 0) or a fatal start-up error (returns non-zero after
  // logging why). Call once, from the main thread.
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tb::app

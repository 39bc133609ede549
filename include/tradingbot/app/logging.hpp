// Process-wide logging: one asynchronous spdlog logger with a bounded queue, so a log line never
// blocks the trading thread (when the queue is full the oldest line is dropped and counted).
//
// Under systemd (or with log.target = "journald") lines go to stdout as "<N>level: message": no
// timestamp (journald adds its own) and a syslog priority prefix so `journalctl -p warning`
// filters correctly. On a terminal they carry an ISO-8601 UTC timestamp. An optional file sink
// writes timestamped lines and reopens its file on SIGHUP, so logrotate can move it away
// (see logrotate/tradingbot). Secrets must never be passed to the logger.
//
// setup_logging/shutdown_logging: main thread, once. reopen_log_files/dropped_log_lines: any thread.
#pragma once

#include <cstdint>
#include <memory>

#include "tradingbot/config/config.hpp"

namespace tb::app {

// True when stdout is connected to the journal (systemd sets JOURNAL_STREAM to its dev:inode).
[[nodiscard]] bool stdout_is_journal();

// Installs the async logger as spdlog's default. Throws std::runtime_error with a clear message
// when the log file cannot be opened (start-up path).
void setup_logging(const config::LogConfig& log);
// Applies a new level (SIGHUP reload).
void set_log_level(const std::string& level);
// Closes and reopens the log file, if any (SIGHUP after logrotate moved it).
void reopen_log_files();
// Lines dropped because the queue was full since start.
[[nodiscard]] std::uint64_t dropped_log_lines();
// Flushes everything queued and stops the logging thread.
void shutdown_logging();

}  // namespace tb::app

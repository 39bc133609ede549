// `tradingbot sim --config FILE`: runs the exchange simulator in the foreground until SIGINT or
// SIGTERM. Main thread only; the simulator runs on this thread's io_context.
#pragma once

#include <string>

namespace tb::app {

// Returns the process exit code (0 after a clean stop, 1 bad config, 3 runtime failure).
int run_sim_command(const std::string& config_path);

}  // namespace tb::app

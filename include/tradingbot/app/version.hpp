// The version string printed by --version, logged at start and shown in /status.
#pragma once

#include <string>

namespace tb::app {
std::string version_string();
}

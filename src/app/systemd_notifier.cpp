#include "tradingbot/app/systemd_notifier.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tb::app {
namespace {

// Reads an environment variable as an unsigned integer; false when unset or not all digits.
bool env_unsigned(const char* name, std::uint64_t& out) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return false;
  const char* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, out);
  return ec == std::errc{} && ptr == end;
}

}  // namespace

SystemdNotifier::SystemdNotifier() {
  // sd_watchdog_enabled(3): WATCHDOG_USEC is the interval systemd expects pings within; when
  // WATCHDOG_PID is set it names the one process meant to ping (a forked child must not).
  std::uint64_t usec = 0;
  if (!env_unsigned("WATCHDOG_USEC", usec) || usec == 0) return;
  if (std::getenv("WATCHDOG_PID") != nullptr) {
    std::uint64_t pid = 0;
    if (!env_unsigned("WATCHDOG_PID", pid) || pid != static_cast<std::uint64_t>(::getpid())) return;
  }
  watchdog_interval_ = std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
}

bool SystemdNotifier::notify(std::string_view message) {
  // sd_notify(3)'s protocol, which systemd documents as a stable interface for exactly this use:
  // one datagram of newline-separated assignments to the AF_UNIX socket named by NOTIFY_SOCKET,
  // a path, or an abstract-namespace name when it starts with '@'. A fresh socket per message,
  // as sd_notify does: a long-lived connected one would keep pointing at the old socket after
  // `systemctl daemon-reexec`.
  const char* where = std::getenv("NOTIFY_SOCKET");
  if (where == nullptr || (where[0] != '/' && where[0] != '@')) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::size_t length = std::strlen(where);
  if (length < 2 || length >= sizeof(address.sun_path)) return false;
  std::memcpy(address.sun_path, where, length);
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const auto address_size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const ssize_t sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&address), address_size);
  ::close(fd);
  return sent == static_cast<ssize_t>(message.size());
}

void SystemdNotifier::ready() const { notify("READY=1"); }
void SystemdNotifier::stopping() const { notify("STOPPING=1"); }
void SystemdNotifier::reloading() const { notify("RELOADING=1"); }
void SystemdNotifier::watchdog() const { notify("WATCHDOG=1"); }
void SystemdNotifier::status(std::string_view text) const {
  // One line: a newline would start a new assignment of the protocol.
  std::string message = "STATUS=";
  for (const char c : text) message.push_back(c == '\n' ? ' ' : c);
  notify(message);
}

}  // namespace tb::app

// systemd's notify protocol as the daemon speaks it: datagrams to $NOTIFY_SOCKET (a path or an
// abstract name), the watchdog interval from WATCHDOG_USEC/WATCHDOG_PID, and the real binary
// under a fake service manager: READY=1 once it serves, WATCHDOG=1 at half the interval,
// STOPPING=1 on SIGTERM, exit 0.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tradingbot/app/systemd_notifier.hpp"

extern char** environ;

using tb::app::SystemdNotifier;
namespace fs = std::filesystem;

namespace {

// A datagram socket standing in for systemd's notify socket; `name` starting with '@' binds in
// the abstract namespace.
class FakeServiceManager {
 public:
  explicit FakeServiceManager(std::string name) : name_(std::move(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    REQUIRE(name_.size() < sizeof(address.sun_path));
    std::memcpy(address.sun_path, name_.data(), name_.size());
    if (name_[0] == '@') address.sun_path[0] = '\0';
    const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), size) == 0);
  }
  ~FakeServiceManager() {
    ::close(fd_);
    if (name_[0] == '/') ::unlink(name_.c_str());
  }
  FakeServiceManager(const FakeServiceManager&) = delete;
  FakeServiceManager& operator=(const FakeServiceManager&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }

  // The next datagram, or "" when none arrives within `timeout`.
  std::string receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string{};
  }

 private:
  std::string name_;
  int fd_ = -1;
};

// Sets an environment variable for one scope and restores the previous state after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    had_ = std::getenv(name) != nullptr;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

std::string unique_name(const char* what) {
  return std::string(what) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

// A TCP port on 127.0.0.1 free right now, from below the ephemeral range (a port inside it can
// be handed to an outgoing connection before the daemon binds it).
std::uint16_t free_port() {
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<std::uint16_t>(
        10000 + (std::chrono::steady_clock::now().time_since_epoch().count() / 1000 + attempt * 7919) % 22000);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool free = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (free) return port;
  }
  FAIL("no free port below the ephemeral range");
  return 0;
}

}  // namespace

TEST_CASE("notify messages reach a filesystem notify socket, one datagram each") {
  const fs::path dir = fs::temp_directory_path() / unique_name("tb-notify");
  fs::create_directories(dir);
  {
    FakeServiceManager manager((dir / "notify").string());
    ScopedEnv socket("NOTIFY_SOCKET", manager.name().c_str());
    const SystemdNotifier notifier;
    notifier.ready();
    CHECK(manager.receive(std::chrono::seconds(2)) == "READY=1");
    notifier.watchdog();
    CHECK(manager.receive(std::chrono::seconds(2)) == "WATCHDOG=1");
    notifier.reloading();
    CHECK(manager.receive(std::chrono::seconds(2)) == "RELOADING=1");
    // A newline would start a second assignment: the status text stays one line.
    notifier.status("books\nresyncing");
    CHECK(manager.receive(std::chrono::seconds(2)) == "STATUS=books resyncing");
    notifier.stopping();
    CHECK(manager.receive(std::chrono::seconds(2)) == "STOPPING=1");
    CHECK(manager.receive(std::chrono::milliseconds(50)).empty());
  }
  fs::remove_all(dir);
}

TEST_CASE("an '@' notify socket is an abstract-namespace name") {
  FakeServiceManager manager("@" + unique_name("tb-notify"));
  ScopedEnv socket("NOTIFY_SOCKET", manager.name().c_str());
  CHECK(SystemdNotifier::notify("READY=1"));
  CHECK(manager.receive(std::chrono::seconds(2)) == "READY=1");
}

TEST_CASE("without a usable notify socket every message is a quiet no-op") {
  {
    ScopedEnv socket("NOTIFY_SOCKET", nullptr);
    CHECK_FALSE(SystemdNotifier::notify("READY=1"));
    SystemdNotifier{}.ready();  // must not throw or crash
  }
  for (const char* bad : {"", "relative/path", "@", "/"}) {
    ScopedEnv socket("NOTIFY_SOCKET", bad);
    CHECK_FALSE(SystemdNotifier::notify("READY=1"));
  }
  {
    ScopedEnv socket("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str());  // longer than sun_path
    CHECK_FALSE(SystemdNotifier::notify("READY=1"));
  }
  {
    // Nobody listening there: the send fails, the daemon carries on.
    ScopedEnv socket("NOTIFY_SOCKET", (fs::temp_directory_path() / unique_name("tb-absent")).c_str());
    CHECK_FALSE(SystemdNotifier::notify("READY=1"));
  }
}

TEST_CASE("the watchdog interval is half of WATCHDOG_USEC, for the process WATCHDOG_PID names") {
  const std::string own_pid = std::to_string(::getpid());
  {
    ScopedEnv usec("WATCHDOG_USEC", "3000000");
    ScopedEnv pid("WATCHDOG_PID", nullptr);
    CHECK(SystemdNotifier{}.watchdog_interval() == std::chrono::milliseconds(1500));
  }
  {
    ScopedEnv usec("WATCHDOG_USEC", "3000000");
    ScopedEnv pid("WATCHDOG_PID", own_pid.c_str());
    CHECK(SystemdNotifier{}.watchdog_interval() == std::chrono::milliseconds(1500));
  }
  {
    // Meant for another process (we were forked from the one systemd started): no pings.
    ScopedEnv usec("WATCHDOG_USEC", "3000000");
    ScopedEnv pid("WATCHDOG_PID", "1");
    CHECK(SystemdNotifier{}.watchdog_interval().count() == 0);
  }
  for (const char* bad : {"", "0", "12x", "-5", "99999999999999999999999"}) {
    ScopedEnv usec("WATCHDOG_USEC", bad);
    ScopedEnv pid("WATCHDOG_PID", nullptr);
    CHECK(SystemdNotifier{}.watchdog_interval().count() == 0);
  }
  {
    ScopedEnv usec("WATCHDOG_USEC", nullptr);
    CHECK(SystemdNotifier{}.watchdog_interval().count() == 0);
  }
}

TEST_CASE("the daemon under a fake service manager: READY, watchdog pings, STOPPING, exit 0") {
  const fs::path dir = fs::temp_directory_path() / unique_name("tb-notify-daemon");
  fs::create_directories(dir);
  FakeServiceManager manager((dir / "notify").string());
  {
    std::ofstream config(dir / "tb.toml");
    config << "[http]\nlisten = \"127.0.0.1:" << free_port() << "\"\n[trading]\nmode = \"paper\"\n[log]\nlevel = \"warn\"\n"
           << "[store]\njournal_dir = \"" << (dir / "journal").string() << "\"\n";
  }
  const std::string config_path = (dir / "tb.toml").string();
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("NOTIFY_SOCKET=") || entry.starts_with("WATCHDOG_")) continue;
    env_storage.emplace_back(entry);
  }
  env_storage.push_back("NOTIFY_SOCKET=" + manager.name());
  env_storage.emplace_back("WATCHDOG_USEC=400000");  // pings every 200 ms
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string program = TB_DAEMON_PATH;
  std::string config_flag = "--config";
  std::vector<char*> argv{program.data(), config_flag.data(), const_cast<char*>(config_path.c_str()), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log_path = (dir / "daemon.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  REQUIRE(::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&actions);

  std::vector<std::string> received;
  const auto wait_for = [&](const std::string& wanted, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string m = manager.receive(std::chrono::milliseconds(100));
      if (m.empty()) continue;
      received.push_back(m);
      if (m == wanted) return true;
    }
    return false;
  };
  const bool ready = wait_for("READY=1", std::chrono::seconds(20));
  int pings = 0;
  if (ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (pings < 3 && std::chrono::steady_clock::now() < deadline) {
      if (manager.receive(std::chrono::milliseconds(500)) == "WATCHDOG=1") ++pings;
    }
  }
  ::kill(pid, SIGTERM);
  const bool stopping = wait_for("STOPPING=1", std::chrono::seconds(10));
  int status = -1;
  for (int i = 0; i < 200 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) {
    ::usleep(50'000);
  }
  if (!WIFEXITED(status)) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  std::ifstream log(log_path);
  INFO("daemon log:\n" << std::string(std::istreambuf_iterator<char>(log), {}));
  CHECK(ready);
  CHECK(pings == 3);
  CHECK(stopping);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  fs::remove_all(dir);
}

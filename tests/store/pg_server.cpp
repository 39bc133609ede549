#include "pg_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <pqxx/pqxx>

namespace tb::test {
namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

PgServer& PgServer::shared() {
  static PgServer server;
  return server;
}

PgServer::PgServer(Options options) : options_(options) {
  const char* bin = std::getenv("TB_PG_BIN");
  bin_ = bin != nullptr && *bin != '\0' ? bin : "/usr/lib/postgresql/15/bin";
  if (::access((bin_ + "/initdb").c_str(), X_OK) != 0 || ::access((bin_ + "/pg_ctl").c_str(), X_OK) != 0) {
    error_ = "PostgreSQL 15 server binaries not found in " + bin_ +
             " (initdb, pg_ctl): run scripts/setup.sh, which installs the postgresql package";
    return;
  }
  if (init()) running_ = start();
}

PgServer::~PgServer() {
  if (running_) stop("fast");
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool PgServer::run(const std::vector<std::string>& argv, const std::string& log_name) {
  std::vector<std::string> full;
  if (::geteuid() == 0) full = {"runuser", "-u", "postgres", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  const std::string log = dir_ + "/" + log_name;
  const pid_t pid = ::fork();
  if (pid < 0) {
    error_ = "fork failed";
    return false;
  }
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    std::vector<char*> args;
    for (auto& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  error_ = full[full.size() - argv.size()] + " failed (status " + std::to_string(status) + "): " + read_file(log);
  return false;
}

bool PgServer::init() {
  char templ[] = "/tmp/tb-store-pg-XXXXXX";
  if (::mkdtemp(templ) == nullptr) {
    error_ = "mkdtemp failed";
    return false;
  }
  dir_ = templ;
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      error_ = "running as root but there is no `postgres` user to run PostgreSQL as: run scripts/setup.sh";
      return false;
    }
    if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      error_ = "cannot chown " + dir_ + " to postgres";
      return false;
    }
  }
  ::chmod(dir_.c_str(), 0700);
  port_ = free_port();
  return run({bin_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
              "--no-sync"},
             "initdb.log");
}

bool PgServer::start() {
  if (dir_.empty()) return false;
  std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_ +
                     " -c max_connections=40 -c shared_buffers=64MB";
  // fsync=off survives a server crash (pg_ctl stop -m immediate), only not an OS crash; keep
  // synchronous_commit on so an acknowledged commit is never lost in the outage tests.
  if (!options_.durable) opts += " -c fsync=off -c full_page_writes=off";
  running_ = run({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w", "-t", "30", "-o", opts,
                  "start"},
                 "pg_ctl.log");
  if (!running_) error_ += "\n" + read_file(dir_ + "/server.log");
  return running_;
}

bool PgServer::stop(const char* mode) {
  if (!running_) return true;
  const bool ok = run({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", mode, "-w", "-t", "30", "stop"}, "pg_ctl.log");
  running_ = !ok;
  return ok;
}

std::string PgServer::conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname;
}

std::string PgServer::create_database(const std::string& prefix) {
  const std::string name = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
  pqxx::connection conn(conninfo("postgres"));
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + tx.quote_name(name));
  return conninfo(name);
}

std::int64_t query_int(const std::string& conninfo, const std::string& sql) {
  pqxx::connection conn(conninfo);
  pqxx::read_transaction tx(conn);
  return tx.exec(sql)[0][0].as<std::int64_t>();
}

std::string query_text(const std::string& conninfo, const std::string& sql) {
  pqxx::connection conn(conninfo);
  pqxx::read_transaction tx(conn);
  return tx.exec(sql)[0][0].as<std::string>();
}

}  // namespace tb::test

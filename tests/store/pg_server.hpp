// PgServer: a throwaway PostgreSQL 15 for the store tests and benchmark (STYLE.md habit 7:
// a real database, not a mock). initdb into a fresh temp directory, pg_ctl start on a free
// loopback port with the unix socket in that directory, stop + delete on destruction. Runs the
// server as the `postgres` system user (runuser) when we are root, because PostgreSQL refuses
// to run as root. Binaries come from /usr/lib/postgresql/15/bin (override: TB_PG_BIN).
// Test-thread only.
#pragma once

#include <string>
#include <vector>

namespace tb::test {

class PgServer {
 public:
  struct Options {
    bool durable = false;  // false: fsync=off etc. (tests); true: PostgreSQL defaults (bench)
  };

  PgServer() : PgServer(Options{}) {}
  explicit PgServer(Options options);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // One server per process, started on first use.
  static PgServer& shared();

  // Empty when running; otherwise why not (the tests FAIL with this message).
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] bool running() const { return running_; }

  // Creates a fresh database and returns its libpq key=value conninfo.
  std::string create_database(const std::string& prefix = "t");
  [[nodiscard]] std::string conninfo(const std::string& dbname) const;

  bool stop(const char* mode = "fast");  // pg_ctl stop -m mode
  bool start();                          // pg_ctl start (same port and data)

 private:
  bool run(const std::vector<std::string>& argv, const std::string& log_name);
  bool init();

  Options options_;
  std::string bin_;
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
  int databases_ = 0;
  std::string error_;
};

// One value from a one-row query on its own connection, for assertions about what reached the
// database.
std::int64_t query_int(const std::string& conninfo, const std::string& sql);
std::string query_text(const std::string& conninfo, const std::string& sql);

}  // namespace tb::test

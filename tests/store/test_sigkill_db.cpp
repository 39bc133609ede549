// SIGKILL with a database: a child process runs a Store against the throwaway PostgreSQL and
// enqueues fills and order transitions the way the daemon's trading thread does (enqueue, then
// last_ticket()/acknowledged() to learn what is durable), reporting over a pipe the highest
// trade id it saw ACKNOWLEDGED (store.hpp: journaled + fdatasync'd). The parent SIGKILLs it
// mid-stream (optionally while the database is down), restarts a Store on the same journal and
// database, and checks that every acknowledged fill is in PostgreSQL exactly once.
#include <catch2/catch.hpp>

#include <csignal>
#include <vector>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include "store_test_util.hpp"
#include "tradingbot/store/store.hpp"

using namespace tb::store;
using tb::test::make_fill;
using tb::test::make_order;
using tb::test::TempDir;

namespace {


StoreOptions options_for(const TempDir& dir, const std::string& conninfo) {
  StoreOptions o;
  o.conninfo = conninfo;
  o.journal_dir = dir.path() / "journal";
  o.batch_size = 200;
  o.queue_capacity = 4096;
  o.flush_interval = std::chrono::milliseconds(2);
  o.reconnect_min = std::chrono::milliseconds(50);
  o.reconnect_max = std::chrono::milliseconds(200);
  o.checkpoint_interval = std::chrono::milliseconds(20);  // prune often: pruning must not lose anything
  o.segment_bytes = 64 << 10;
  o.connect_timeout_s = 2;
  return o;
}

// The child: never returns. Every 10th record is an order transition (the orders table has no
// unique key, so a duplicate there would show), the rest are fills with increasing trade ids.
[[noreturn]] void child_main(const StoreOptions& options, int report_fd) {
  auto opened = Store::open(options);
  if (!opened) ::_exit(2);
  auto& store = *opened.value();
  store.start();
  std::vector<std::int64_t> fill_of_ticket(1, 0);  // ticket -> highest trade id enqueued up to it
  fill_of_ticket.reserve(1 << 20);
  std::int64_t trade_id = 0;
  std::uint64_t acked_ticket = 0;
  for (std::uint64_t n = 1;; ++n) {
    if (n % 10 == 0) {
      store.producer().enqueue(make_order("k-" + std::to_string(n), OrderStatus::New));
    } else {
      store.producer().enqueue(make_fill(++trade_id));
    }
    const std::uint64_t ticket = store.last_ticket();
    if (ticket != fill_of_ticket.size()) ::_exit(3);  // every record got the next ticket
    fill_of_ticket.push_back(trade_id);
    if (n % 50 == 0) {
      store.producer().pump();
      while (acked_ticket + 1 < fill_of_ticket.size() && store.acknowledged(acked_ticket + 1)) ++acked_ticket;
      const std::int64_t acked_fill = fill_of_ticket[acked_ticket];
      if (::write(report_fd, &acked_fill, sizeof(acked_fill)) != sizeof(acked_fill)) ::_exit(4);
      ::usleep(100);
    }
  }
}

// Reads reports until one is >= target; false on EOF, error or 30 s without reaching it.
bool wait_for_ack(int fd, std::int64_t target, std::int64_t& acked) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (acked < target) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    std::int64_t value = 0;
    if (::read(fd, &value, sizeof(value)) != sizeof(value)) return false;
    acked = value;
  }
  return true;
}

void drain_reports(int fd, std::int64_t& acked) {
  std::int64_t value = 0;
  while (::read(fd, &value, sizeof(value)) == sizeof(value)) acked = std::max(acked, value);
}

}  // namespace

TEST_CASE("SIGKILL of a store writing to PostgreSQL: every acknowledged fill is in the database exactly once",
          "[store][db][sigkill]") {
  auto& pg = tb::test::require_pg();
  const bool db_down_at_kill = GENERATE(false, true);
  INFO("database down when killed: " << db_down_at_kill);
  const auto db = pg.create_database("sigkill");
  TempDir dir;
  const StoreOptions options = options_for(dir, db);

  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    child_main(options, pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  std::int64_t acked = 0;
  bool reached = wait_for_ack(pipe_fds[0], 5000, acked);
  if (reached && db_down_at_kill) {
    REQUIRE(pg.stop("immediate"));  // like a crash: the child's commits start failing
    reached = wait_for_ack(pipe_fds[0], acked + 3000, acked);  // trading goes on, journal only
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  drain_reports(pipe_fds[0], acked);
  ::close(pipe_fds[0]);
  if (db_down_at_kill) REQUIRE(pg.start());
  REQUIRE(reached);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  // Restart: recovery sees at least every acknowledged fill, then the backfill commits the rest.
  auto reopened = Store::open(options);
  INFO((reopened.ok() ? std::string() : reopened.error().message));
  REQUIRE(reopened.ok());
  auto& store = *reopened.value();
  auto state = store.recover();
  REQUIRE(state.ok());
  REQUIRE(state.value().last_fills.size() == 1);
  CHECK(state.value().last_fills[0].trade_id >= acked);
  if (db_down_at_kill) CHECK(state.value().source == RecoveredState::Source::DatabaseAndJournal);
  store.start();
  REQUIRE(store.wait_idle(std::chrono::seconds(60)));
  const auto s = store.snapshot();
  store.stop();

  const std::int64_t fills = tb::test::query_int(db, "SELECT count(*) FROM fills");
  CHECK(fills >= acked);
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM fills WHERE trade_id <= " + std::to_string(acked)) == acked);
  CHECK(tb::test::query_int(db, "SELECT count(DISTINCT trade_id) FROM fills") == fills);
  CHECK(tb::test::query_int(db, "SELECT max(trade_id) FROM fills") == fills);  // no gap: journal order kept
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM fills") == state.value().last_fills[0].trade_id);
  // Orders have no unique key: equal counts prove each record was committed exactly once.
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM orders") == tb::test::query_int(db, "SELECT count(DISTINCT client_order_id) FROM orders"));
  // Every journaled record is in the database: fills + orders == the journal's last sequence.
  CHECK(static_cast<std::uint64_t>(fills + tb::test::query_int(db, "SELECT count(*) FROM orders")) == s.journal_seq);
  CHECK(s.db_seq == s.journal_seq);
}

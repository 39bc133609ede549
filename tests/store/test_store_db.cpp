#include <catch2/catch.hpp>

#include <pqxx/pqxx>

#include "store_test_util.hpp"
#include "tradingbot/store/migrations.hpp"
#include "tradingbot/store/store.hpp"

using namespace tb::store;
using tb::test::eventually;
using tb::test::make_fill;
using tb::test::make_order;
using tb::test::make_position;
using tb::test::TempDir;

namespace {


StoreOptions db_options(const TempDir& dir, const std::string& conninfo) {
  StoreOptions o;
  o.conninfo = conninfo;
  o.journal_dir = dir.path() / "journal";
  o.batch_size = 500;
  o.queue_capacity = 4096;
  o.flush_interval = std::chrono::milliseconds(5);
  o.reconnect_min = std::chrono::milliseconds(50);
  o.reconnect_max = std::chrono::milliseconds(400);
  o.checkpoint_interval = std::chrono::milliseconds(50);
  o.connect_timeout_s = 2;
  return o;
}

std::unique_ptr<Store> open_store(const StoreOptions& o) {
  auto store = Store::open(o);
  INFO((store.ok() ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

// Enqueues from this (the "trading") thread, pumping the overflow as a trading loop would.
void enqueue(Store& store, const StoreRecord& record) {
  store.producer().enqueue(record);
  store.producer().pump();
}

}  // namespace

TEST_CASE("store: every record kind lands in its table, batched, with exact decimals", "[store][db]") {
  auto& pg = tb::test::require_pg();
  const auto db = pg.create_database("kinds");
  TempDir dir;
  auto store = open_store(db_options(dir, db));
  CHECK(store->snapshot().db_up);
  store->start();

  RunRecord start;
  start.run_id = "run-1";
  start.event = RunEvent::Start;
  start.version = "0.1.0";
  start.config_hash = "abc123";
  start.pid = 42;
  start.time_ns = tb::wall_clock_ns();
  enqueue(*store, start);
  for (int i = 1; i <= 5000; ++i) enqueue(*store, make_fill(i));
  REQUIRE(store->wait_idle(std::chrono::seconds(30)));  // samples below must not meet a full ring
  enqueue(*store, make_order("o-1", OrderStatus::PendingNew));
  enqueue(*store, make_order("o-1", OrderStatus::New));
  enqueue(*store, make_order("o-1", OrderStatus::PartiallyFilled, "0.01"));
  enqueue(*store, make_position("BTCUSDT", "0.5"));
  BalanceRecord balance;
  balance.asset = "USDT";
  balance.free = *tb::Qty::parse("1000.5");
  balance.locked = *tb::Qty::parse("0.00000001");
  enqueue(*store, balance);
  EquitySample equity;
  equity.quote_asset = "USDT";
  equity.equity = *tb::Money::parse("10250.12345678");
  equity.sample_time_ns = tb::wall_clock_ns();
  enqueue(*store, equity);
  KlineRecord kline;
  kline.symbol = *tb::Symbol::parse("BTCUSDT");
  kline.interval = "1m";
  kline.open_time_ns = (tb::wall_clock_ns() / 60'000'000'000) * 60'000'000'000;
  kline.close_time_ns = kline.open_time_ns + 59'999'000'000;
  kline.open = kline.high = kline.low = kline.close = *tb::Price::parse("61837.63");
  kline.trades = 12;
  enqueue(*store, kline);
  RunRecord stop = start;
  stop.event = RunEvent::Stop;
  stop.detail = "SIGTERM";
  stop.time_ns = tb::wall_clock_ns();
  enqueue(*store, stop);

  REQUIRE(store->wait_idle(std::chrono::seconds(30)));
  const auto s = store->snapshot();
  CHECK(s.db_written == 5009);
  CHECK(s.dropped_samples == 0);
  CHECK(s.lag_records() == 0);
  CHECK(s.db_seq == s.journal_seq);

  CHECK(tb::test::query_int(db, "SELECT count(*) FROM fills") == 5000);
  CHECK(tb::test::query_text(db, "SELECT price::text FROM fills WHERE trade_id = 7") == "61837.63000000");
  CHECK(tb::test::query_text(db, "SELECT quote_qty::text FROM fills WHERE trade_id = 7") == "7.63385542");
  CHECK(tb::test::query_text(db, "SELECT to_char(trade_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM fills "
                 "WHERE trade_id = 7") == "2025-11-13 02:13:20.000007");
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM orders WHERE client_order_id = 'o-1'") == 3);
  CHECK(tb::test::query_text(db, "SELECT status FROM order_state WHERE client_order_id = 'o-1'") == "PARTIALLY_FILLED");
  CHECK(tb::test::query_int(db, "SELECT exchange_order_id FROM order_state WHERE client_order_id = 'o-1'") == 777);
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM open_orders") == 1);
  CHECK(tb::test::query_text(db, "SELECT realized_pnl::text FROM positions WHERE symbol = 'BTCUSDT'") == "-12.34567891");
  CHECK(tb::test::query_text(db, "SELECT locked::text FROM balances WHERE asset = 'USDT'") == "0.00000001");
  CHECK(tb::test::query_text(db, "SELECT equity::text FROM equity_samples") == "10250.12345678");
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM klines WHERE trades = 12") == 1);
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM klines_default") == 0);  // landed in a monthly partition
  CHECK(tb::test::query_text(db, "SELECT stop_detail FROM runs WHERE run_id = 'run-1' AND stopped_at IS NOT NULL") == "SIGTERM");
  // Batched: far fewer transactions than records (batch_size 500).
  CHECK(tb::test::query_int(db, "SELECT applied_seq FROM store_progress") == 5009);
  store->stop();
}

TEST_CASE("store: duplicate fills are stored once", "[store][db]") {
  auto& pg = tb::test::require_pg();
  const auto db = pg.create_database("dups");
  TempDir dir;
  auto store = open_store(db_options(dir, db));
  store->start();
  for (int i = 1; i <= 100; ++i) enqueue(*store, make_fill(i));
  enqueue(*store, make_fill(50));  // same batch or the next: either way one row
  REQUIRE(store->wait_idle(std::chrono::seconds(20)));
  for (int i = 1; i <= 100; ++i) enqueue(*store, make_fill(i));  // a later replay of all of them
  enqueue(*store, make_fill(1, "ETHUSDT"));                       // same id, other symbol: a new trade
  REQUIRE(store->wait_idle(std::chrono::seconds(20)));
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM fills") == 101);
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM fills WHERE symbol = 'BTCUSDT'") == 100);
  CHECK(store->snapshot().db_written == 202);
  store->stop();
}

TEST_CASE("store: database stopped mid-run, then back: every record present exactly once", "[store][db]") {
  auto& pg = tb::test::require_pg();
  const auto db = pg.create_database("outage");
  TempDir dir;
  auto store = open_store(db_options(dir, db));
  store->start();

  int orders = 0;
  for (int i = 1; i <= 1000; ++i) {
    enqueue(*store, make_fill(i));
    if (i % 10 == 0) {
      enqueue(*store, make_order("o-" + std::to_string(i), OrderStatus::New));
      ++orders;
    }
  }
  REQUIRE(store->wait_idle(std::chrono::seconds(20)));

  REQUIRE(pg.stop("fast"));
  for (int i = 1001; i <= 3000; ++i) {
    enqueue(*store, make_fill(i));
    if (i % 10 == 0) {
      enqueue(*store, make_order("o-" + std::to_string(i), OrderStatus::New));
      ++orders;
    }
  }
  // Trading continues: everything is journaled, the database is reported down with a lag.
  REQUIRE(eventually([&] {
    const auto s = store->snapshot();
    return s.journaled == s.enqueued && !s.db_up;
  }));
  const auto down = store->snapshot();
  CHECK(down.lag_records() > 0);
  CHECK(down.db_errors > 0);
  CHECK(down.journal_bytes > 0);
  CHECK(to_json(down).find("\"db_up\":false") != std::string::npos);
  CHECK(to_prometheus(down).find("tradingbot_store_db_up 0") != std::string::npos);

  REQUIRE(pg.start());
  REQUIRE(store->wait_idle(std::chrono::seconds(30)));
  const auto up = store->snapshot();
  CHECK(up.db_up);
  CHECK(up.backfilled > 0);
  CHECK(up.lag_records() == 0);
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM fills") == 3000);
  CHECK(tb::test::query_int(db, "SELECT count(DISTINCT trade_id) FROM fills") == 3000);
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM orders") == orders);  // no unique key: proves exactly once
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM order_state") == orders);
  store->stop();
}

TEST_CASE("store: records journaled while the database was down are backfilled by the next run", "[store][db]") {
  auto& pg = tb::test::require_pg();
  const auto db = pg.create_database("nextrun");
  TempDir dir;
  {
    auto store = open_store(db_options(dir, db));
    store->start();
    for (int i = 1; i <= 200; ++i) enqueue(*store, make_fill(i));
    REQUIRE(store->wait_idle(std::chrono::seconds(20)));
    REQUIRE(pg.stop("immediate"));
    for (int i = 201; i <= 700; ++i) enqueue(*store, make_fill(i));
    enqueue(*store, make_order("late", OrderStatus::New));
    REQUIRE(eventually([&] { return store->snapshot().journaled == 501 + 200; }));
    store->stop(std::chrono::milliseconds(0));
    CHECK(store->snapshot().db_seq == 200);
  }
  REQUIRE(pg.start());
  auto store = open_store(db_options(dir, db));
  auto state = store->recover();
  REQUIRE(state.ok());
  CHECK(state.value().source == RecoveredState::Source::DatabaseAndJournal);
  CHECK(state.value().db_seq == 200);
  CHECK(state.value().journal_records_applied == 501);
  REQUIRE(state.value().open_orders.size() == 1);
  CHECK(state.value().open_orders[0].client_order_id.view() == "late");
  REQUIRE(state.value().last_fills.size() == 1);
  CHECK(state.value().last_fills[0].trade_id == 700);
  store->start();
  REQUIRE(store->wait_idle(std::chrono::seconds(30)));
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM fills") == 700);
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM orders") == 1);
  store->stop();
}

TEST_CASE("store: starting with the database down journals, then connects, migrates and backfills", "[store][db]") {
  auto& pg = tb::test::require_pg();
  const auto db = pg.create_database("startdown");
  TempDir dir;
  REQUIRE(pg.stop("fast"));
  auto store = open_store(db_options(dir, db));
  CHECK_FALSE(store->snapshot().db_up);
  CHECK(store->snapshot().db_enabled);
  auto state = store->recover();
  REQUIRE(state.ok());
  CHECK(state.value().source == RecoveredState::Source::JournalPartial);
  store->start();
  for (int i = 1; i <= 300; ++i) enqueue(*store, make_fill(i));
  REQUIRE(eventually([&] { return store->snapshot().journaled == 300; }));
  REQUIRE(pg.start());
  REQUIRE(store->wait_idle(std::chrono::seconds(30)));
  CHECK(tb::test::query_int(db, "SELECT count(*) FROM fills") == 300);
  CHECK(tb::test::query_int(db, "SELECT max(version) FROM schema_migrations") == latest_schema_version());
  store->stop();
}

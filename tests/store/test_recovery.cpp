#include <catch2/catch.hpp>

#include "store_test_util.hpp"
#include "tradingbot/store/store.hpp"

using namespace tb::store;
using tb::test::make_fill;
using tb::test::make_order;
using tb::test::make_position;
using tb::test::TempDir;

namespace {

// One run's worth of history: A partly filled (open), B filled, C canceled, D sent but not
// acknowledged (open), positions updated twice, fills on two symbols.
void write_history(Store& store) {
  auto& p = store.producer();
  p.enqueue(make_order("A", OrderStatus::PendingNew));
  p.enqueue(make_order("B", OrderStatus::PendingNew));
  p.enqueue(make_order("A", OrderStatus::New));
  p.enqueue(make_order("B", OrderStatus::New));
  p.enqueue(make_order("C", OrderStatus::New));
  p.enqueue(make_order("A", OrderStatus::PartiallyFilled, "0.005"));
  p.enqueue(make_order("B", OrderStatus::Filled, "0.0123"));
  p.enqueue(make_order("C", OrderStatus::Canceled));
  p.enqueue(make_order("D", OrderStatus::PendingNew));
  p.enqueue(make_position("ETHUSDT", "-0.0123"));
  p.enqueue(make_position("BTCUSDT", "0.1"));
  p.enqueue(make_position("BTCUSDT", "0.25"));
  for (int i = 1; i <= 30; ++i) p.enqueue(make_fill(i, "BTCUSDT"));
  for (int i = 5; i <= 9; ++i) p.enqueue(make_fill(i, "ETHUSDT"));
  BalanceRecord usdt;
  usdt.asset = "USDT";
  usdt.free = *tb::Qty::parse("99.5");
  p.enqueue(usdt);
}

void check_history(const RecoveredState& state) {
  REQUIRE(state.open_orders.size() == 2);
  CHECK(state.open_orders[0].client_order_id.view() == "A");
  CHECK(state.open_orders[0].status == OrderStatus::PartiallyFilled);
  CHECK(state.open_orders[0].filled_qty.to_string() == "0.005");
  CHECK(state.open_orders[0].price.to_string() == "2600.12");
  CHECK(state.open_orders[0].exchange_order_id == 777);
  CHECK(state.open_orders[0].event_time_ns == 1'763'000'000'123'456'000);
  CHECK(state.open_orders[1].client_order_id.view() == "D");
  CHECK(state.open_orders[1].status == OrderStatus::PendingNew);
  REQUIRE(state.positions.size() == 2);
  for (const auto& pos : state.positions) {
    if (pos.symbol.view() == "BTCUSDT") {
      CHECK(pos.qty.to_string() == "0.25");
    } else {
      CHECK(pos.qty.to_string() == "-0.0123");
    }
    CHECK(pos.realized_pnl.to_string() == "-12.34567891");
  }
  REQUIRE(state.balances.size() == 1);
  CHECK(state.balances[0].free.to_string() == "99.5");
  REQUIRE(state.last_fills.size() == 2);
  for (const auto& f : state.last_fills) {
    CHECK(f.trade_id == (f.symbol.view() == "BTCUSDT" ? 30 : 9));
  }
}

std::unique_ptr<Store> open_store(const StoreOptions& o) {
  auto store = Store::open(o);
  INFO((store.ok() ? std::string() : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

}  // namespace

TEST_CASE("recovery: open orders, positions and last fills from the journal alone", "[store][recovery]") {
  TempDir dir;
  StoreOptions o;
  o.journal_dir = dir.path();
  {
    auto store = open_store(o);
    auto empty = store->recover();
    REQUIRE(empty.ok());
    CHECK(empty.value().source == RecoveredState::Source::Empty);
    store->start();
    write_history(*store);
    store->stop();
  }
  auto store = open_store(o);
  auto state = store->recover();
  REQUIRE(state.ok());
  CHECK(state.value().source == RecoveredState::Source::Journal);
  check_history(state.value());
}

TEST_CASE("recovery: open orders, positions and last fills from the database", "[store][recovery][db]") {
  auto& pg = tb::test::require_pg();
  const auto db = pg.create_database("recovery");
  TempDir dir;
  StoreOptions o;
  o.conninfo = db;
  o.journal_dir = dir.path();
  o.flush_interval = std::chrono::milliseconds(5);
  {
    auto store = open_store(o);
    store->start();
    write_history(*store);
    REQUIRE(store->wait_idle(std::chrono::seconds(20)));
    store->stop();
  }
  // A fresh journal directory: everything must come from the database.
  TempDir other;
  o.journal_dir = other.path();
  auto store = open_store(o);
  auto state = store->recover();
  REQUIRE(state.ok());
  CHECK(state.value().source == RecoveredState::Source::Database);
  check_history(state.value());
}

TEST_CASE("StoreOptions: [store] config maps to options and never prints the password", "[store]") {
  tb::config::StoreConfig cfg;
  cfg.postgres_url = "postgresql://bot:hunter2@db:5432/tb";
  cfg.batch_size = 10;
  const auto o = StoreOptions::from_config(cfg);
  REQUIRE(o.conninfo.has_value());
  CHECK(o.batch_size == 10);
  CHECK(o.describe_database() == "postgresql://bot:***@db:5432/tb");
  StoreOptions none;
  CHECK(none.describe_database() == "none (journal only)");
}

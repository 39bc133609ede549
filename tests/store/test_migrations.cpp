#include <catch2/catch.hpp>

#include <pqxx/pqxx>

#include "store_test_util.hpp"
#include "tradingbot/store/migrations.hpp"

using namespace tb::store;

namespace {
std::int64_t count(const std::string& conninfo, const std::string& sql) {
  pqxx::connection conn(conninfo);
  pqxx::read_transaction tx(conn);
  return tx.exec(sql)[0][0].as<std::int64_t>();
}
}  // namespace

TEST_CASE("migrations: an empty database reports everything pending, then migrates once", "[store][db]") {
  auto& pg = tb::test::require_pg();
  const auto db = pg.create_database("mig");

  auto before = inspect_schema(db);
  REQUIRE(before.ok());
  CHECK(before.value().current == 0);
  CHECK(before.value().latest == latest_schema_version());
  CHECK(before.value().pending.size() == schema_migrations().size());
  CHECK_THAT(before.value().describe(), Catch::Contains("pending: 1 core 2 market_data"));

  auto after = migrate_schema(db);
  REQUIRE(after.ok());
  CHECK(after.value().up_to_date());
  CHECK(after.value().describe() == "schema version 2 of 2 (up to date)");
  for (const char* table : {"orders", "order_state", "fills", "positions", "balances", "runs", "store_progress",
                            "equity_samples", "klines"}) {
    INFO(table);
    CHECK(count(db, std::string("SELECT count(*) FROM ") + table) == 0);
  }
  // Monthly kline partitions exist for this month and the next.
  CHECK(count(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'klines'::regclass") >= 3);

  // Re-running is a no-op.
  auto again = migrate_schema(db);
  REQUIRE(again.ok());
  CHECK(again.value().current == latest_schema_version());
  CHECK(count(db, "SELECT count(*) FROM schema_migrations") == latest_schema_version());
}

TEST_CASE("migrations: from each earlier version to the latest, keeping data", "[store][db]") {
  auto& pg = tb::test::require_pg();
  for (int from = 1; from < latest_schema_version(); ++from) {
    INFO("from version " << from);
    const auto db = pg.create_database("mig_from");
    auto partial = migrate_schema(db, from);
    REQUIRE(partial.ok());
    CHECK(partial.value().current == from);
    CHECK(partial.value().pending.size() == static_cast<std::size_t>(latest_schema_version() - from));
    {
      pqxx::connection conn(db);
      pqxx::work tx(conn);
      tx.exec("INSERT INTO fills (symbol, trade_id, client_order_id, exchange_order_id, side, is_maker, price, qty, "
              "quote_qty, commission, commission_asset, trade_time) VALUES ('BTCUSDT', 1, 'c', 2, 'BUY', true, "
              "61837.63, 0.001, 61.83763, 0, 'BNB', now())");
      tx.commit();
    }
    auto full = migrate_schema(db);
    REQUIRE(full.ok());
    CHECK(full.value().up_to_date());
    CHECK(count(db, "SELECT count(*) FROM fills WHERE price = 61837.63") == 1);
    CHECK(count(db, "SELECT count(*) FROM klines") == 0);
  }
}

TEST_CASE("migrations: kline retention drops whole old months", "[store][db]") {
  auto& pg = tb::test::require_pg();
  const auto db = pg.create_database("retention");
  REQUIRE(migrate_schema(db).ok());
  pqxx::connection conn(db);
  {
    pqxx::work tx(conn);
    CHECK(tx.exec("SELECT tb_ensure_kline_partitions('2024-01-15', 3)")[0][0].as<int>() == 3);
    tx.exec("INSERT INTO klines VALUES ('BTCUSDT', '1m', '2024-01-20', '2024-01-20 00:00:59.999', 1, 2, 0.5, 1.5, 10, "
            "15, 7), ('BTCUSDT', '1m', '2024-03-02', '2024-03-02 00:00:59.999', 1, 2, 0.5, 1.5, 10, 15, 7)");
    CHECK(tx.exec("SELECT tb_drop_kline_partitions('2024-03-01')")[0][0].as<int>() == 2);
    CHECK(tx.exec("SELECT count(*) FROM klines")[0][0].as<int>() == 1);
    CHECK(tx.exec("SELECT to_regclass('klines_y2024m01') IS NULL")[0][0].as<bool>());
    tx.commit();
  }
}

TEST_CASE("migrations: an unreachable database is an error, not a crash", "[store][db]") {
  auto result = inspect_schema("host=127.0.0.1 port=1 dbname=x connect_timeout=2");
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.error().message, Catch::Contains("schema check failed"));
}

// Helpers shared by the store tests: record factories, a temp directory that removes itself,
// bounded polling, and the shared throwaway PostgreSQL (REQUIREd, never silently skipped).
// Test-thread only.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "pg_server.hpp"
#include "tradingbot/store/records.hpp"

namespace tb::test {

class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/tb-store-test-XXXXXX";
    path_ = ::mkdtemp(templ);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline store::FillRecord make_fill(std::int64_t trade_id, const char* symbol = "BTCUSDT") {
  store::FillRecord f;
  f.trade_id = trade_id;
  f.symbol = *Symbol::parse(symbol);
  f.client_order_id = "cid-" + std::to_string(trade_id / 10);
  f.exchange_order_id = 1000 + trade_id / 10;
  f.side = trade_id % 2 == 0 ? Side::Buy : Side::Sell;
  f.is_maker = trade_id % 3 == 0;
  f.price = *Price::parse("61837.63");
  f.qty = *Qty::parse("0.00012345");
  f.quote_qty = notional(f.price, f.qty);
  f.commission = *Qty::parse("0.00000012");
  f.commission_asset = "BNB";
  f.trade_time_ns = 1'763'000'000'000'000'000 + trade_id * 1000;
  return f;
}

inline store::OrderRecord make_order(const std::string& cid, store::OrderStatus status, const char* qty_filled = "0") {
  store::OrderRecord o;
  o.client_order_id = cid;
  o.exchange_order_id = status == store::OrderStatus::PendingNew ? 0 : 777;
  o.symbol = *Symbol::parse("ETHUSDT");
  o.side = Side::Sell;
  o.type = store::OrderType::Limit;
  o.tif = store::TimeInForce::Gtc;
  o.status = status;
  o.price = *Price::parse("2600.12");
  o.qty = *Qty::parse("0.0123");
  o.filled_qty = *Qty::parse(qty_filled);
  o.event_time_ns = 1'763'000'000'123'456'000;
  return o;
}

inline store::PositionRecord make_position(const char* symbol, const char* qty) {
  store::PositionRecord p;
  p.symbol = *Symbol::parse(symbol);
  p.qty = *Qty::parse(qty);
  p.avg_entry_price = *Price::parse("61000.5");
  p.realized_pnl = *Money::parse("-12.34567891");
  p.update_time_ns = 1'763'000'000'000'000'000;
  return p;
}

// Polls `done` every 5 ms until it holds or `timeout` passes.
template <class F>
bool eventually(F&& done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The shared throwaway server; FAILS the test (with the reason) when it cannot run.
inline PgServer& require_pg() {
  auto& server = PgServer::shared();
  INFO(server.error());
  REQUIRE(server.error().empty());
  REQUIRE(server.running());
  return server;
}

}  // namespace tb::test

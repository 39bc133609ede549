#include <catch2/catch.hpp>

#include <unordered_set>

#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"

TEST_CASE("symbols normalise stream-name case and reject unsafe text", "[core][symbol]") {
  const auto upper = tb::Symbol::parse("BTCUSDT");
  const auto lower = tb::Symbol::parse("btcusdt");
  REQUIRE(upper);
  REQUIRE(lower);
  CHECK(*upper == *lower);
  CHECK(upper->view() == "BTCUSDT");
  CHECK(upper->lower() == "btcusdt");
  CHECK(tb::Symbol::parse("１２３４５６"));  // UTF-8 symbols exist since 2025-12
  for (const char* bad : {"", "BTC USDT", "btc/usdt", "btcusdt@depth", "\"X\"", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
    INFO(bad);
    CHECK_FALSE(tb::Symbol::parse(bad));
  }
  std::unordered_set<tb::Symbol> set{*upper, *lower, *tb::Symbol::parse("ETHUSDT")};
  CHECK(set.size() == 2);
}

TEST_CASE("sides use Binance's spelling", "[core][side]") {
  CHECK(tb::parse_side("BUY") == tb::Side::Buy);
  CHECK(tb::parse_side("SELL") == tb::Side::Sell);
  CHECK_FALSE(tb::parse_side("buy"));
  CHECK(tb::to_string(tb::opposite(tb::Side::Buy)) == "SELL");
}

// PriceCache: LRU order, eviction at capacity, TTL freshness, counters, older-update handling.
#include <catch2/catch.hpp>

#include <string>

#include "tradingbot/market/price_cache.hpp"

using tb::Nanos;
using tb::Price;
using tb::Qty;
using tb::Symbol;
using tb::market::PriceCache;
using tb::market::PriceEntry;
using tb::market::PriceLookup;
using tb::market::PriceQuote;
using tb::market::PriceSource;

namespace {
Symbol sym(const std::string& s) { return *Symbol::parse(s); }
PriceQuote quote(std::int64_t bid, std::uint64_t id = 0) {
  return PriceQuote{Price::from_raw(bid), Qty::from_raw(1), Price::from_raw(bid + 1), Qty::from_raw(2), id,
                    PriceSource::Ws};
}
constexpr Nanos kMs = 1'000'000;
}  // namespace

TEST_CASE("hit, miss and stale by TTL with the caller's clock", "[market][price_cache]") {
  PriceCache cache(4, 500 * kMs);
  const PriceEntry* e = nullptr;
  CHECK(cache.get(sym("BTCUSDT"), 0, e) == PriceLookup::Miss);
  CHECK(e == nullptr);
  cache.put(sym("BTCUSDT"), quote(100), 1000 * kMs);
  CHECK(cache.get(sym("BTCUSDT"), 1000 * kMs, e) == PriceLookup::Hit);
  REQUIRE(e != nullptr);
  CHECK(e->quote.bid_price == Price::from_raw(100));
  CHECK(cache.get(sym("BTCUSDT"), 1500 * kMs, e) == PriceLookup::Hit);  // exactly TTL old: fresh
  CHECK(cache.get(sym("BTCUSDT"), 1501 * kMs, e) == PriceLookup::Stale);
  REQUIRE(e != nullptr);  // stale still shows the entry (age, fallback)
  CHECK(e->updated_ns == 1000 * kMs);
  const auto st = cache.stats();
  CHECK(st.hits == 2);
  CHECK(st.misses == 1);
  CHECK(st.stale == 1);
  CHECK(st.size == 1);
  CHECK(st.capacity == 4);
}

TEST_CASE("least recently used entry is evicted at capacity; get refreshes recency", "[market][price_cache]") {
  PriceCache cache(3, 500 * kMs);
  cache.put(sym("A"), quote(1), 0);
  cache.put(sym("B"), quote(2), 0);
  cache.put(sym("C"), quote(3), 0);
  CHECK(cache.lru_symbol() == sym("A"));
  const PriceEntry* e = nullptr;
  CHECK(cache.get(sym("A"), 0, e) == PriceLookup::Hit);  // A becomes most recent; B is now LRU
  CHECK(cache.mru_symbol() == sym("A"));
  cache.put(sym("D"), quote(4), 0);
  CHECK(cache.stats().evictions == 1);
  CHECK(cache.size() == 3);
  CHECK(cache.get(sym("B"), 0, e) == PriceLookup::Miss);
  CHECK(cache.get(sym("A"), 0, e) == PriceLookup::Hit);
  CHECK(cache.get(sym("C"), 0, e) == PriceLookup::Hit);
  CHECK(cache.get(sym("D"), 0, e) == PriceLookup::Hit);
  cache.put(sym("C"), quote(33), 0);  // update in place, no eviction
  CHECK(cache.stats().evictions == 1);
  CHECK(cache.get(sym("C"), 0, e) == PriceLookup::Hit);
  CHECK(e->quote.bid_price == Price::from_raw(33));
}

TEST_CASE("many symbols churn through a small cache without losing index consistency", "[market][price_cache]") {
  PriceCache cache(100, 500 * kMs);
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 250; ++i) cache.put(sym("S" + std::to_string(i)), quote(i), round);
  }
  CHECK(cache.size() == 100);
  const PriceEntry* e = nullptr;
  for (int i = 150; i < 250; ++i) {  // the last 100 put are present
    REQUIRE(cache.get(sym("S" + std::to_string(i)), 19, e) == PriceLookup::Hit);
    CHECK(e->quote.bid_price == Price::from_raw(i));
  }
  for (int i = 0; i < 150; ++i) CHECK(cache.get(sym("S" + std::to_string(i)), 19, e) == PriceLookup::Miss);
  CHECK(cache.erase(sym("S200")));
  CHECK(!cache.erase(sym("S200")));
  CHECK(cache.size() == 99);
  cache.clear();
  CHECK(cache.size() == 0);
}

TEST_CASE("a quote with an older update id does not overwrite a fresher one", "[market][price_cache]") {
  PriceCache cache;
  cache.put(sym("BTCUSDT"), quote(200, 50), 10);
  cache.put(sym("BTCUSDT"), quote(100, 40), 20);  // a lagging depth diff
  const PriceEntry* e = nullptr;
  CHECK(cache.get(sym("BTCUSDT"), 20, e) == PriceLookup::Hit);
  CHECK(e->quote.bid_price == Price::from_raw(200));
  CHECK(cache.stats().older_puts_ignored == 1);
  cache.put(sym("BTCUSDT"), quote(300, 60), 30);
  cache.get(sym("BTCUSDT"), 30, e);
  CHECK(e->quote.bid_price == Price::from_raw(300));
}

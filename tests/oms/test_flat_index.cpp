#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "tradingbot/oms/flat_index.hpp"

using tb::oms::FlatIndex;

TEST_CASE("flat index agrees with std::map under random insert/erase", "[oms]") {
  FlatIndex idx(200);
  std::map<std::uint64_t, std::uint32_t> ref;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 20000; ++step) {
    const std::uint64_t key = rng() % 400;  // dense keys collide a lot
    if (rng() % 3 == 0) {
      CHECK(idx.erase(key) == (ref.erase(key) == 1));
    } else {
      const auto value = static_cast<std::uint32_t>(rng() % 1000);
      const bool fits = ref.size() < 200 && ref.count(key) == 0;
      CHECK(idx.insert(key, value) == fits);
      if (fits) ref[key] = value;
    }
    REQUIRE(idx.size() == ref.size());
  }
  for (std::uint64_t key = 0; key < 400; ++key) {
    const auto it = ref.find(key);
    CHECK(idx.find(key) == (it == ref.end() ? FlatIndex::kNotFound : it->second));
  }
}

// L2Book: level set/erase semantics, ordering, top-N, crossed check, big batches vs a std::map.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "tradingbot/book/l2_book.hpp"
#include "tradingbot/book/level_scan.hpp"
#include "tradingbot/core/cpu_features.hpp"

using tb::Price;
using tb::Qty;
using tb::book::BookLevel;
using tb::book::BookSide;
using tb::book::L2Book;

namespace {
Price px(std::int64_t v) { return Price::from_raw(v); }
Qty qt(std::int64_t v) { return Qty::from_raw(v); }
BookLevel lvl(std::int64_t p, std::int64_t q) { return BookLevel{px(p), qt(q)}; }
}  // namespace

TEST_CASE("set, update and erase levels; best bid/ask", "[book]") {
  L2Book book(16);
  CHECK(!book.best_bid());
  CHECK(!book.best_ask());
  book.set_level(BookSide::Bid, px(100), qt(5));
  book.set_level(BookSide::Bid, px(102), qt(1));
  book.set_level(BookSide::Bid, px(101), qt(2));
  book.set_level(BookSide::Ask, px(105), qt(3));
  book.set_level(BookSide::Ask, px(103), qt(4));
  REQUIRE(book.best_bid());
  CHECK(*book.best_bid() == lvl(102, 1));
  CHECK(*book.best_ask() == lvl(103, 4));
  book.set_level(BookSide::Bid, px(102), qt(9));  // absolute quantity replaces
  CHECK(book.best_bid()->qty == qt(9));
  book.set_level(BookSide::Bid, px(102), qt(0));  // zero erases
  CHECK(*book.best_bid() == lvl(101, 2));
  book.erase_level(BookSide::Ask, px(999));  // erasing an absent level is normal
  CHECK(book.ask_count() == 2);
  CHECK(book.qty_at(BookSide::Ask, px(105)) == qt(3));
  CHECK(book.qty_at(BookSide::Ask, px(104)) == qt(0));
  CHECK(!book.crossed());
}

TEST_CASE("top-N copies best first and stops at the book's depth", "[book]") {
  L2Book book;
  for (int i = 1; i <= 30; ++i) {
    book.set_level(BookSide::Bid, px(1000 - i), qt(i));
    book.set_level(BookSide::Ask, px(1000 + i), qt(i));
  }
  std::vector<BookLevel> out(5);
  REQUIRE(book.top(BookSide::Bid, out) == 5);
  CHECK(out[0] == lvl(999, 1));
  CHECK(out[4] == lvl(995, 5));
  REQUIRE(book.top(BookSide::Ask, out) == 5);
  CHECK(out[0] == lvl(1001, 1));
  std::vector<BookLevel> big(100);
  CHECK(book.top(BookSide::Ask, big) == 30);
}

TEST_CASE("crossed book is detected", "[book]") {
  L2Book book;
  book.set_level(BookSide::Bid, px(100), qt(1));
  book.set_level(BookSide::Ask, px(101), qt(1));
  CHECK(!book.crossed());
  book.set_level(BookSide::Bid, px(101), qt(1));
  CHECK(book.crossed());
}

TEST_CASE("snapshot load accepts best-first input, drops zeros, sets the update id", "[book]") {
  L2Book book;
  book.set_level(BookSide::Bid, px(1), qt(1));  // replaced entirely
  std::vector<BookLevel> bids{lvl(100, 1), lvl(99, 0), lvl(98, 3)};
  std::vector<BookLevel> asks{lvl(101, 2), lvl(102, 4)};
  book.load_snapshot(bids, asks, 77);
  CHECK(book.update_id() == 77);
  CHECK(book.bid_count() == 2);
  CHECK(*book.best_bid() == lvl(100, 1));
  CHECK(book.qty_at(BookSide::Bid, px(1)) == qt(0));
  CHECK(*book.best_ask() == lvl(101, 2));
}

TEST_CASE("large batches (merge path) and unordered batches match a std::map model", "[book]") {
  std::mt19937_64 rng(42);
  L2Book book(6000);
  std::map<std::int64_t, std::int64_t> bids;
  std::map<std::int64_t, std::int64_t> asks;
  auto apply_model = [](std::map<std::int64_t, std::int64_t>& m, const std::vector<BookLevel>& levels) {
    for (const auto& l : levels) {
      if (l.qty.raw() > 0) {
        m[l.price.raw()] = l.qty.raw();
      } else {
        m.erase(l.price.raw());
      }
    }
  };
  // A 5000-level snapshot, best first like Binance.
  std::vector<BookLevel> sb;
  std::vector<BookLevel> sa;
  for (int i = 0; i < 5000; ++i) {
    sb.push_back(lvl(100000 - 2 * i, 1 + i));
    sa.push_back(lvl(100001 + 2 * i, 1 + i));
  }
  book.load_snapshot(sb, sa, 1);
  apply_model(bids, sb);
  apply_model(asks, sa);
  for (int round = 0; round < 200; ++round) {
    const std::size_t n = (round % 3 == 0) ? 1100 : static_cast<std::size_t>(rng() % 40);
    std::vector<BookLevel> db;
    std::vector<BookLevel> da;
    for (std::size_t k = 0; k < n; ++k) {
      const auto q = static_cast<std::int64_t>(rng() % 3 == 0 ? 0 : rng() % 1000);
      db.push_back(lvl(100000 - static_cast<std::int64_t>(rng() % 12000), q));
      da.push_back(lvl(100001 + static_cast<std::int64_t>(rng() % 12000), q));
    }
    if (round % 2 == 0) {  // sorted best first, no duplicates: exercises the merge
      std::sort(db.begin(), db.end(), [](auto& a, auto& b) { return a.price > b.price; });
      db.erase(std::unique(db.begin(), db.end(), [](auto& a, auto& b) { return a.price == b.price; }), db.end());
      std::sort(da.begin(), da.end(), [](auto& a, auto& b) { return a.price < b.price; });
      da.erase(std::unique(da.begin(), da.end(), [](auto& a, auto& b) { return a.price == b.price; }), da.end());
    }
    book.apply_levels(BookSide::Bid, db);
    book.apply_levels(BookSide::Ask, da);
    apply_model(bids, db);
    apply_model(asks, da);
  }
  REQUIRE(book.bid_count() == bids.size());
  REQUIRE(book.ask_count() == asks.size());
  std::vector<BookLevel> top(bids.size());
  book.top(BookSide::Bid, top);
  auto it = bids.rbegin();
  for (const auto& l : top) {
    REQUIRE(l.price.raw() == it->first);
    REQUIRE(l.qty.raw() == it->second);
    ++it;
  }
  std::vector<BookLevel> topa(asks.size());
  book.top(BookSide::Ask, topa);
  auto ia = asks.begin();
  for (const auto& l : topa) {
    REQUIRE(l.price.raw() == ia->first);
    REQUIRE(l.qty.raw() == ia->second);
    ++ia;
  }
}

// Blocks emptied by erases go back to the side's pool and come out again for splits and reloads;
// whatever they held before must never be found (their unused price slots are refilled).
TEST_CASE("blocks reused after erases, splits and reloads hold only their own levels", "[book]") {
  std::mt19937_64 rng(7);
  L2Book book(512);
  std::map<std::int64_t, std::int64_t> model;
  for (int round = 0; round < 60; ++round) {
    if (round % 20 == 0) {  // reload: every block back to the pool, then a fresh snapshot
      std::vector<BookLevel> snapshot;
      for (int i = 0; i < 300; ++i) snapshot.push_back(lvl(50000 - 3 * i - round, 1 + i));
      book.load_snapshot(snapshot, {}, 1);
      model.clear();
      for (const auto& l : snapshot) model[l.price.raw()] = l.qty.raw();
    }
    // Erase a whole price band (empties blocks), then insert into another (splits them).
    std::vector<BookLevel> batch;
    const std::int64_t erase_from = 49000 + static_cast<std::int64_t>(rng() % 800);
    for (std::int64_t p = erase_from + 300; p >= erase_from; --p) batch.push_back(lvl(p, 0));
    const std::int64_t insert_from = 48000 + static_cast<std::int64_t>(rng() % 2000);
    for (std::int64_t p = insert_from + 150; p >= insert_from; p -= 1 + static_cast<std::int64_t>(rng() % 3)) {
      batch.push_back(lvl(p, 1 + static_cast<std::int64_t>(rng() % 9)));
    }
    book.apply_levels(BookSide::Bid, batch);
    for (const auto& l : batch) {
      if (l.qty.raw() > 0) {
        model[l.price.raw()] = l.qty.raw();
      } else {
        model.erase(l.price.raw());
      }
    }
    REQUIRE(book.bid_count() == model.size());
    for (std::int64_t p = 47900; p <= 50100; ++p) {
      const auto it = model.find(p);
      REQUIRE(book.qty_at(BookSide::Bid, Price::from_raw(p)).raw() == (it == model.end() ? 0 : it->second));
    }
    REQUIRE(book.best_bid()->price.raw() == model.rbegin()->first);
  }
}

// The book's inner loop has a scalar and an AVX2 version (picked by the CPU at start-up): both
// must give the true count on every block size, both sides, prices absent and present, at the
// ends, and with the slots past the size holding the side's sentinel.
TEST_CASE("level scan: the scalar and AVX2 counts are exact on every block size", "[book]") {
  using tb::book::detail::count_before_avx2;
  using tb::book::detail::count_before_scalar;
  using tb::book::detail::kScanLevels;
  const bool avx2 = tb::cpu_has_avx2();
  if (!avx2) WARN("no AVX2 on this CPU: only the scalar version (the one in use) is checked");
  std::int64_t block[kScanLevels];
  for (std::uint32_t size = 0; size <= kScanLevels; ++size) {
    for (const bool bid : {true, false}) {
      // Sorted in the side's order, step 10, then the sentinel.
      for (std::uint32_t k = 0; k < kScanLevels; ++k) {
        const auto step = 10 * static_cast<std::int64_t>(k);
        block[k] = k < size ? (bid ? 1000 + step : 1000 - step) : (bid ? INT64_MAX : INT64_MIN);
      }
      for (std::int64_t p = 1000 - 10 * 66; p <= 1000 + 10 * 66; p += 5) {
        std::size_t expected = 0;
        for (std::uint32_t k = 0; k < size; ++k) expected += (bid ? block[k] < p : block[k] > p) ? 1 : 0;
        const std::size_t scalar = count_before_scalar(block, p, bid);
        if (scalar != expected) FAIL("size " << size << (bid ? " bid" : " ask") << " p " << p << ": scalar " << scalar << ", expected " << expected);
        if (!avx2) continue;
        const std::size_t simd = count_before_avx2(block, p, bid);
        if (simd != expected) FAIL("size " << size << (bid ? " bid" : " ask") << " p " << p << ": avx2 " << simd << ", expected " << expected);
      }
      for (const std::int64_t p : {INT64_MIN, INT64_MAX}) {  // prices at the sentinels' values
        std::size_t expected = 0;
        for (std::uint32_t k = 0; k < size; ++k) expected += (bid ? block[k] < p : block[k] > p) ? 1 : 0;
        CHECK(count_before_scalar(block, p, bid) == expected);
        if (avx2) CHECK(count_before_avx2(block, p, bid) == expected);
      }
    }
  }
}

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

// The reference the book is held to: price -> quantity, a zero quantity erases.
using Model = std::map<std::int64_t, std::int64_t>;
void apply_to_model(Model& m, const BookLevel& l) {
  if (l.qty.raw() > 0) {
    m[l.price.raw()] = l.qty.raw();
  } else {
    m.erase(l.price.raw());
  }
}

// A snapshot of `levels` levels per side, best first like Binance: bids best_bid, best_bid - step,
// ...; asks best_bid + 1, best_bid + 1 + step, ...; the k-th best level holds first_qty + k. Loaded
// into the book, and the models reset to it.
struct Ladder {
  std::int64_t best_bid = 10000;
  int levels = 200;
  std::int64_t step = 1;
  std::int64_t first_qty = 100;
};
void load_ladder(L2Book& book, Model& bids, Model& asks, const Ladder& ladder = {}) {
  std::vector<BookLevel> b;
  std::vector<BookLevel> a;
  for (int i = 0; i < ladder.levels; ++i) {
    b.push_back(lvl(ladder.best_bid - ladder.step * i, ladder.first_qty + i));
    a.push_back(lvl(ladder.best_bid + 1 + ladder.step * i, ladder.first_qty + i));
  }
  book.load_snapshot(b, a, 1);
  bids.clear();
  asks.clear();
  for (const auto& l : b) apply_to_model(bids, l);
  for (const auto& l : a) apply_to_model(asks, l);
}
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
  Model bids;
  Model asks;
  auto apply_model = [](Model& m, const std::vector<BookLevel>& levels) {
    for (const auto& l : levels) apply_to_model(m, l);
  };
  load_ladder(book, bids, asks, Ladder{100000, 5000, 2, 1});
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
  Model model;
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
    for (const auto& l : batch) apply_to_model(model, l);
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

// ---- deep updates deferred (l2_book.hpp: "Deep updates wait") ----

namespace {

// The model's levels best first (bids: highest price first).
std::vector<BookLevel> model_top(const Model& m, bool bid, std::size_t n) {
  std::vector<BookLevel> out;
  if (bid) {
    for (auto it = m.rbegin(); it != m.rend() && out.size() < n; ++it) out.push_back(lvl(it->first, it->second));
  } else {
    for (auto it = m.begin(); it != m.end() && out.size() < n; ++it) out.push_back(lvl(it->first, it->second));
  }
  return out;
}

std::vector<BookLevel> book_top(const L2Book& book, BookSide side, std::size_t n) {
  std::vector<BookLevel> out(n);
  out.resize(book.top(side, out));
  return out;
}

// The default ladder (200 levels, 10000 down / 10001 up) in the tests below: they take prices 50
// levels from the best as deep, and 600 updates as more than one queue's worth.
static_assert(L2Book::kHotLevels < 50 && L2Book::kDeferCapacity < 600);

}  // namespace

TEST_CASE("deep updates wait; hot reads do not apply them, every other read does", "[book]") {
  L2Book book(1024);
  Model bids;
  Model asks;
  load_ladder(book, bids, asks);
  REQUIRE(book.deferred_levels() == 0);

  // 150 levels below the best bid: deep. Queued, and the hot reads answer without applying it.
  book.set_level(BookSide::Bid, px(9850), qt(7));
  book.set_level(BookSide::Ask, px(10180), qt(0));
  CHECK(book.deferred_levels() == 2);
  CHECK(*book.best_bid() == lvl(10000, 100));
  CHECK(*book.best_ask() == lvl(10001, 100));
  CHECK(book_top(book, BookSide::Bid, 5) == model_top(bids, true, 5));
  CHECK(book.qty_at(BookSide::Bid, px(9999)) == qt(101));
  CHECK(book.deferred_levels() == 2);

  // A read that reaches a deep level applies the queue first.
  CHECK(book.qty_at(BookSide::Bid, px(9850)) == qt(7));
  CHECK(book.deferred_levels() == 1);  // the ask's: each side applies its own queue
  CHECK(book.qty_at(BookSide::Ask, px(10180)) == qt(0));
  CHECK(book.deferred_levels() == 0);
  apply_to_model(bids, lvl(9850, 7));
  apply_to_model(asks, lvl(10180, 0));
  CHECK(book.bid_count() == bids.size());
  CHECK(book.ask_count() == asks.size());

  // Updates of one deep price keep their order: the last one wins.
  book.apply_levels(BookSide::Bid, std::vector<BookLevel>{lvl(9800, 1), lvl(9800, 0), lvl(9800, 3)});
  CHECK(book.deferred_levels() == 3);
  apply_to_model(bids, lvl(9800, 3));
  CHECK(book_top(book, BookSide::Bid, 200) == model_top(bids, true, 200));
  CHECK(book.deferred_levels() == 0);
}

TEST_CASE("deferred updates: a full queue, vanished hot levels and slices apply them in order", "[book]") {
  L2Book book(4096);
  Model bids;
  Model asks;
  load_ladder(book, bids, asks);

  SECTION("a full queue is applied on the spot") {
    std::size_t most = 0;
    for (int k = 0; k < 600; ++k) {  // deep prices 9900..9801, cycled, alternating quantities
      const BookLevel l = lvl(9900 - (k % 100), k % 3 == 0 ? 0 : 1 + k);
      book.set_level(BookSide::Bid, l.price, l.qty);
      apply_to_model(bids, l);
      most = std::max(most, book.deferred_levels());
    }
    CHECK(most == L2Book::kDeferCapacity - 1);  // the update that filled it applied the queue
    CHECK(book.deferred_overflows() == 1);
    CHECK(book.deferred_levels() == 600 - L2Book::kDeferCapacity);
    CHECK(book_top(book, BookSide::Bid, 300) == model_top(bids, true, 300));
  }

  SECTION("slices already applied make room: a queue that is not full is not applied") {
    // 500 deep updates, the oldest 100 applied (as the idle drain does), then 100 more: 500
    // pending, never 512, so nothing is applied on the spot.
    const auto deep_update = [&](int k) {
      const BookLevel l = lvl(9900 - (k % 100), 1 + k);
      book.set_level(BookSide::Bid, l.price, l.qty);
      apply_to_model(bids, l);
    };
    for (int k = 0; k < 500; ++k) deep_update(k);
    REQUIRE(book.apply_deferred(100) == 400);
    for (int k = 500; k < 600; ++k) deep_update(k);
    CHECK(book.deferred_levels() == 500);
    CHECK(book.deferred_overflows() == 0);
    CHECK(book_top(book, BookSide::Bid, 200) == model_top(bids, true, 200));
  }

  SECTION("erasing every hot level: best() applies the queue and finds the deep best") {
    // Deep: 9940 changes, 9950 goes (both beyond the hot levels, 10000 down).
    book.apply_levels(BookSide::Bid, std::vector<BookLevel>{lvl(9950, 0), lvl(9940, 55)});
    apply_to_model(bids, lvl(9950, 0));
    apply_to_model(bids, lvl(9940, 55));
    REQUIRE(book.deferred_levels() == 2);
    std::vector<BookLevel> erase_hot;
    for (int p = 10000; p >= 9951; --p) erase_hot.push_back(lvl(p, 0));
    for (const auto& l : erase_hot) apply_to_model(bids, l);
    book.apply_levels(BookSide::Bid, erase_hot);
    CHECK(*book.best_bid() == lvl(9949, 151));
    CHECK(book_top(book, BookSide::Bid, 20) == model_top(bids, true, 20));
    CHECK(book.qty_at(BookSide::Bid, px(9940)) == qt(55));
  }

  SECTION("apply_deferred(n) applies the oldest n, both sides within one budget") {
    book.apply_levels(BookSide::Bid, std::vector<BookLevel>{lvl(9900, 1), lvl(9899, 2), lvl(9898, 3)});
    book.apply_levels(BookSide::Ask, std::vector<BookLevel>{lvl(10101, 4), lvl(10102, 5)});
    REQUIRE(book.deferred_levels() == 5);
    CHECK(book.apply_deferred(2) == 3);
    CHECK(book.apply_deferred(2) == 1);  // the last bid and the first ask
    CHECK(book.apply_deferred(0) == 1);
    CHECK(book.apply_deferred() == 0);
    CHECK(book.qty_at(BookSide::Bid, px(9898)) == qt(3));
    CHECK(book.qty_at(BookSide::Ask, px(10102)) == qt(5));
  }

  SECTION("a new snapshot drops the queue") {
    book.set_level(BookSide::Ask, px(10150), qt(9));
    REQUIRE(book.deferred_levels() == 1);
    load_ladder(book, bids, asks);
    CHECK(book.deferred_levels() == 0);
    CHECK(book.qty_at(BookSide::Ask, px(10150)) == qt(249));
  }
}

// Random updates near the top and deep, interleaved with every kind of read and with partial
// applications, against a std::map model: each read must answer as if every update had been
// applied on arrival. The test also proves updates were really queued while hot reads ran.
TEST_CASE("deferred deep updates: random traffic and reads match a std::map model", "[book]") {
  std::mt19937_64 rng(2024);
  L2Book book(8192);
  Model bids;
  Model asks;
  std::size_t hot_reads_with_queue = 0;
  std::size_t most_queued = 0;
  for (int round = 0; round < 4000; ++round) {
    if (round % 1000 == 0) load_ladder(book, bids, asks, Ladder{50000, 2000, 2, 1});  // a fresh snapshot now and then
    // A diff: sorted best first, mostly deep, some at the top (which moves the market).
    for (const BookSide side : {BookSide::Bid, BookSide::Ask}) {
      const bool bid = side == BookSide::Bid;
      Model& m = bid ? bids : asks;
      const std::int64_t best = bid ? (m.empty() ? 50000 : m.rbegin()->first) : (m.empty() ? 50001 : m.begin()->first);
      std::map<std::int64_t, std::int64_t> diff;  // price -> qty, unique prices
      const std::size_t n = rng() % 40;
      for (std::size_t k = 0; k < n; ++k) {
        const bool near = rng() % 3 == 0;
        const auto distance = static_cast<std::int64_t>(near ? rng() % 60 : 60 + rng() % 3000);
        std::int64_t p = bid ? best - distance + (near ? 20 : 0) : best + distance - (near ? 20 : 0);
        if (!bid && !bids.empty() && p <= bids.rbegin()->first) p = bids.rbegin()->first + 1;  // never cross
        if (bid && !asks.empty() && p >= asks.begin()->first) p = asks.begin()->first - 1;
        diff[p] = rng() % 4 == 0 ? 0 : static_cast<std::int64_t>(1 + rng() % 1000);
      }
      std::vector<BookLevel> levels;
      for (const auto& [p, q] : diff) levels.push_back(lvl(p, q));
      if (bid) std::reverse(levels.begin(), levels.end());
      if (rng() % 10 == 0 && !levels.empty()) {
        book.set_level(side, levels[0].price, levels[0].qty);  // one level alone, as the sim's feed does
        apply_to_model(m, levels[0]);
        levels.erase(levels.begin());
      }
      book.apply_levels(side, levels);
      for (const auto& l : levels) apply_to_model(m, l);
    }
    most_queued = std::max(most_queued, book.deferred_levels());
    // Hot reads: the best levels and a short top-N.
    const std::size_t queued = book.deferred_levels();
    REQUIRE(book.best_bid() == (bids.empty() ? std::nullopt : std::optional<BookLevel>(lvl(bids.rbegin()->first, bids.rbegin()->second))));
    REQUIRE(book.best_ask() == (asks.empty() ? std::nullopt : std::optional<BookLevel>(lvl(asks.begin()->first, asks.begin()->second))));
    REQUIRE(book_top(book, BookSide::Bid, 5) == model_top(bids, true, 5));
    REQUIRE(book_top(book, BookSide::Ask, 5) == model_top(asks, false, 5));
    if (queued != 0 && book.deferred_levels() == queued) ++hot_reads_with_queue;
    // Now and then a read of any depth or price, a partial application, or a count.
    switch (rng() % 8) {
      case 0: {
        const std::size_t depth = 1 + rng() % 300;
        REQUIRE(book_top(book, BookSide::Bid, depth) == model_top(bids, true, depth));
        REQUIRE(book_top(book, BookSide::Ask, depth) == model_top(asks, false, depth));
        break;
      }
      case 1: {
        const auto p = static_cast<std::int64_t>(45000 + rng() % 5000);
        const auto it = bids.find(p);
        REQUIRE(book.qty_at(BookSide::Bid, px(p)).raw() == (it == bids.end() ? 0 : it->second));
        break;
      }
      case 2: (void)book.apply_deferred(rng() % 64); break;
      case 3:
        REQUIRE(book.bid_count() == bids.size());
        REQUIRE(book.ask_count() == asks.size());
        break;
      default: break;
    }
    REQUIRE(book.crossed() == (!bids.empty() && !asks.empty() && bids.rbegin()->first >= asks.begin()->first));
  }
  REQUIRE(book.bid_count() == bids.size());
  REQUIRE(book_top(book, BookSide::Bid, bids.size()) == model_top(bids, true, bids.size()));
  REQUIRE(book_top(book, BookSide::Ask, asks.size()) == model_top(asks, false, asks.size()));
  // The run really queued updates, and the hot reads answered without applying them.
  CHECK(most_queued > 100);
  CHECK(hot_reads_with_queue > 1000);
}

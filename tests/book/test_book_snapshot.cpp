// BookSnapshot: byte-identical round trips, restored books that trade like the original, and
// corrupt, truncated or inconsistent snapshots refused without touching the engine.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "recording_listener.hpp"
#include "tradingbot/book/book_snapshot.hpp"

using namespace tb;
using namespace tb::book;
using namespace tb::book::test;

namespace {

InstrumentRules rules() {
  InstrumentRules r;
  r.symbol = *Symbol::parse("ETHUSDT");
  r.tick_size = Price::from_raw(1'000'000);
  r.step_size = Qty::from_raw(10'000);
  r.min_notional = M(1);
  r.band_multiplier_up = 500'000'000;
  r.band_multiplier_down = 20'000'000;
  return r;
}

// A book with partial fills, client ids, several accounts and levels, both sides.
void populate(MatchingEngine& e) {
  e.set_reference_price(P(2000));
  const char* ids[] = {"a1", "", "c-3", "", "e:5", "f/6"};
  for (int i = 0; i < 30; ++i) {
    NewOrder o;
    o.account = static_cast<AccountId>(i % 3);
    o.client_order_id = i < 6 ? ids[i] : "";
    o.side = i % 2 == 0 ? Side::Buy : Side::Sell;
    o.type = i % 5 == 0 ? OrderType::LimitMaker : OrderType::Limit;
    o.price = Price::from_raw((o.side == Side::Buy ? 1990 + i % 7 : 2000 + i % 5) * kFixedScale);
    o.quantity = Qty::from_raw(10'000'000 + i * 1'230'000);
    o.stp = static_cast<StpMode>(i % 4);
    REQUIRE(e.submit(o, 1'700'000'000'000'000'000 + i).reason == RejectReason::None);
  }
  NewOrder taker;  // partially fills some asks
  taker.account = 9;
  taker.side = Side::Buy;
  taker.price = P(2001);
  taker.quantity = Qty::from_raw(35'000'000);
  taker.time_in_force = TimeInForce::Ioc;
  e.submit(taker, 1'800'000'000'000'000'000);
}

}  // namespace

TEST_CASE("snapshot -> restore -> snapshot gives identical bytes", "[book]") {
  NullOrderListener quiet;
  MatchingEngine original(rules(), quiet);
  populate(original);
  const std::vector<std::uint8_t> first = BookSnapshot::save(original);

  MatchingEngine copy(InstrumentRules{}, quiet, EngineCapacity{16, 16});
  const SnapshotResult r = BookSnapshot::restore(first, copy);
  REQUIRE(r.ok());
  CHECK(BookSnapshot::save(copy) == first);
  CHECK(copy.rules().symbol.view() == "ETHUSDT");
  CHECK(copy.reference_price() == P(2000));
  CHECK(copy.next_order_id() == original.next_order_id());
  CHECK(copy.next_trade_id() == original.next_trade_id());
  CHECK(copy.update_id() == original.update_id());
  CHECK(copy.open_order_count() == original.open_order_count());
  CHECK(copy.find_order(0, "a1").has_value());

  // The restored book trades exactly like the original from here on.
  RecordingListener a, b;
  original.set_listener(a);
  copy.set_listener(b);
  NewOrder sweep;
  sweep.account = 5;
  sweep.side = Side::Sell;
  sweep.type = OrderType::Market;
  sweep.quantity = Qty::from_raw(200'000'000);
  original.submit(sweep);
  copy.submit(sweep);
  CHECK(a.log == b.log);
  CHECK(BookSnapshot::save(original) == BookSnapshot::save(copy));

  // An empty book round-trips too.
  MatchingEngine empty(InstrumentRules{}, quiet);
  const auto bytes = BookSnapshot::save(empty);
  MatchingEngine empty_copy(rules(), quiet);
  REQUIRE(BookSnapshot::restore(bytes, empty_copy).ok());
  CHECK(BookSnapshot::save(empty_copy) == bytes);
}

TEST_CASE("corrupt or truncated snapshots are rejected and leave the engine unchanged", "[book]") {
  NullOrderListener quiet;
  MatchingEngine original(rules(), quiet);
  populate(original);
  const std::vector<std::uint8_t> good = BookSnapshot::save(original);

  MatchingEngine target(InstrumentRules{}, quiet);
  NewOrder keep;
  keep.price = P(7);
  keep.quantity = Q(1);
  target.submit(keep);
  const std::vector<std::uint8_t> before = BookSnapshot::save(target);

  SECTION("every truncation") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      const SnapshotResult r = BookSnapshot::restore(std::span(good.data(), n), target);
      REQUIRE_FALSE(r.ok());
      CHECK(!r.detail.empty());
    }
    CHECK(BookSnapshot::restore(std::span(good.data(), 10), target).status == SnapshotStatus::Truncated);
  }
  SECTION("every single-byte corruption") {
    for (std::size_t i = 0; i < good.size(); ++i) {
      std::vector<std::uint8_t> bad = good;
      bad[i] ^= 0x5A;
      REQUIRE_FALSE(BookSnapshot::restore(bad, target).ok());
    }
    std::vector<std::uint8_t> bad = good;
    bad.back() ^= 1;
    CHECK(BookSnapshot::restore(bad, target).status == SnapshotStatus::ChecksumMismatch);
    bad = good;
    bad[0] = 'X';
    CHECK(BookSnapshot::restore(bad, target).status == SnapshotStatus::BadMagic);
    bad = good;
    bad[8] = 2;
    CHECK(BookSnapshot::restore(bad, target).status == SnapshotStatus::UnsupportedVersion);
    bad = good;
    bad.push_back(0);
    CHECK(BookSnapshot::restore(bad, target).status == SnapshotStatus::BadLength);
  }
  SECTION("a consistent checksum over inconsistent content is still refused") {
    // Build a crossed book by hand: one bid at 10 above one ask at 9, then fix the checksum.
    MatchingEngine bid_only(InstrumentRules{}, quiet);
    NewOrder o;
    o.price = P(10);
    o.quantity = Q(1);
    bid_only.submit(o);
    MatchingEngine ask_only(InstrumentRules{}, quiet);
    o.side = Side::Sell;
    o.price = P(9);
    ask_only.submit(o);
    std::vector<std::uint8_t> a = BookSnapshot::save(bid_only);
    const std::vector<std::uint8_t> s = BookSnapshot::save(ask_only);
    // Payload layout: symbol length byte, 10 i64 (rules + reference), 3 u64 counters, 2 counts.
    const std::size_t counts_at = BookSnapshot::kHeaderSize + 1 + 13 * 8;
    std::vector<std::uint8_t> crossed(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(counts_at));
    const std::uint64_t one = 1;
    crossed.resize(crossed.size() + 16);
    std::memcpy(crossed.data() + counts_at, &one, 8);
    std::memcpy(crossed.data() + counts_at + 8, &one, 8);
    crossed.insert(crossed.end(), a.begin() + static_cast<std::ptrdiff_t>(counts_at + 16), a.end());
    std::vector<std::uint8_t> ask_record(s.begin() + static_cast<std::ptrdiff_t>(counts_at + 16), s.end());
    ask_record[0] = 2;  // order id 2 so ids stay unique; next_order_id is 2 in `a` -> bump it
    crossed.insert(crossed.end(), ask_record.begin(), ask_record.end());
    const std::size_t next_id_at = BookSnapshot::kHeaderSize + 1 + 10 * 8;
    crossed[next_id_at] = 3;
    // Re-seal: payload size and FNV-1a checksum.
    const std::uint64_t payload = crossed.size() - BookSnapshot::kHeaderSize;
    std::memcpy(crossed.data() + 16, &payload, 8);
    std::uint64_t h = 0xCBF29CE484222325ull;
    for (std::size_t i = BookSnapshot::kHeaderSize; i < crossed.size(); ++i) {
      h ^= crossed[i];
      h *= 0x100000001B3ull;
    }
    std::memcpy(crossed.data() + 24, &h, 8);
    const SnapshotResult r = BookSnapshot::restore(crossed, target);
    CHECK(r.status == SnapshotStatus::Malformed);
    CHECK(r.detail == "crossed book");
  }
  CHECK(BookSnapshot::save(target) == before);
  CHECK(to_string(SnapshotStatus::ChecksumMismatch) == "checksum_mismatch");
}

// DepthSynchronizer: Binance's local order book procedure on hand-built sequences.
#include <catch2/catch.hpp>

#include <vector>

#include "tradingbot/market/depth_synchronizer.hpp"

using namespace tb::market;
using tb::Price;
using tb::Qty;
using tb::Symbol;
using tb::book::BookSide;

namespace {
const Symbol kSym = *Symbol::parse("BTCUSDT");
Level L(std::int64_t p, std::int64_t q) { return Level{Price::from_integer(p), Qty::from_integer(q)}; }

struct DiffData {
  UpdateId first;
  UpdateId last;
  std::vector<Level> bids;
  std::vector<Level> asks;
  DepthDiff view() const { return DepthDiff{kSym, 0, first, last, bids, asks}; }
};

struct SnapData {
  UpdateId id;
  std::vector<Level> bids;
  std::vector<Level> asks;
  DepthSnapshot view() const { return DepthSnapshot{kSym, id, bids, asks}; }
};

SnapData snapshot(UpdateId id) { return SnapData{id, {L(100, 1), L(99, 2)}, {L(101, 1), L(102, 2)}}; }
}  // namespace

TEST_CASE("buffers from the start, bridges the snapshot, drops u <= lastUpdateId", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64);
  CHECK(sync.take_snapshot_request());  // a new book needs a snapshot
  CHECK(!sync.take_snapshot_request());  // once
  CHECK(sync.on_diff(DiffData{5, 8, {L(100, 7)}, {}}.view()) == DiffOutcome::Buffered);    // u <= 10: dropped
  CHECK(sync.on_diff(DiffData{9, 12, {L(99, 5)}, {}}.view()) == DiffOutcome::Buffered);    // bridges 11
  CHECK(sync.on_diff(DiffData{13, 14, {}, {L(101, 0)}}.view()) == DiffOutcome::Buffered);
  CHECK(!sync.synced());
  CHECK(sync.on_snapshot(snapshot(10).view()) == SnapshotOutcome::Applied);
  REQUIRE(sync.synced());
  CHECK(sync.book().update_id() == 14);
  CHECK(sync.book().qty_at(BookSide::Bid, Price::from_integer(100)) == Qty::from_integer(1));  // 5..8 dropped
  CHECK(sync.book().qty_at(BookSide::Bid, Price::from_integer(99)) == Qty::from_integer(5));
  CHECK(sync.book().best_ask()->price == Price::from_integer(102));
  // Live: stale, then continuous.
  CHECK(sync.on_diff(DiffData{12, 14, {L(1, 1)}, {}}.view()) == DiffOutcome::Stale);
  CHECK(sync.on_diff(DiffData{15, 15, {L(98, 1)}, {}}.view()) == DiffOutcome::Applied);
  const auto st = sync.stats();
  CHECK(st.last_update_id == 15);
  CHECK(st.gaps == 0);
  CHECK(st.resyncs == 0);
  CHECK(st.snapshots_requested == 1);
}

TEST_CASE("a snapshot older than the first buffered U is refetched", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64);
  (void)sync.take_snapshot_request();
  sync.on_diff(DiffData{20, 25, {L(100, 3)}, {}}.view());
  CHECK(sync.on_snapshot(snapshot(15).view()) == SnapshotOutcome::TooOld);
  CHECK(!sync.synced());
  CHECK(sync.take_snapshot_request());
  CHECK(sync.stats().snapshots_too_old == 1);
  sync.on_diff(DiffData{26, 30, {L(99, 4)}, {}}.view());
  CHECK(sync.on_snapshot(snapshot(27).view()) == SnapshotOutcome::Applied);
  CHECK(sync.synced());
  CHECK(sync.book().update_id() == 30);
  CHECK(sync.book().qty_at(BookSide::Bid, Price::from_integer(99)) == Qty::from_integer(4));
}

TEST_CASE("a gap while synced discards the book and asks for a new snapshot", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64);
  (void)sync.take_snapshot_request();
  sync.on_diff(DiffData{10, 11, {}, {}}.view());
  REQUIRE(sync.on_snapshot(snapshot(10).view()) == SnapshotOutcome::Applied);
  CHECK(sync.on_diff(DiffData{12, 13, {}, {}}.view()) == DiffOutcome::Applied);
  CHECK(sync.on_diff(DiffData{15, 16, {L(100, 9)}, {}}.view()) == DiffOutcome::Gap);  // 14 missing
  CHECK(!sync.synced());
  CHECK(sync.book().empty());
  CHECK(sync.take_snapshot_request());
  auto st = sync.stats();
  CHECK(st.gaps == 1);
  CHECK(st.resyncs == 1);
  // The gap diff starts the new buffer: a snapshot at 15 bridges it.
  CHECK(sync.on_snapshot(snapshot(15).view()) == SnapshotOutcome::Applied);
  CHECK(sync.book().update_id() == 16);
  CHECK(sync.book().qty_at(BookSide::Bid, Price::from_integer(100)) == Qty::from_integer(9));
}

TEST_CASE("a hole inside the buffered diffs is a gap at bridging time", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64);
  sync.on_diff(DiffData{10, 12, {}, {}}.view());
  sync.on_diff(DiffData{15, 16, {}, {}}.view());  // 13, 14 never arrived
  CHECK(sync.on_snapshot(snapshot(11).view()) == SnapshotOutcome::Gap);
  CHECK(!sync.synced());
  CHECK(sync.stats().gaps == 1);
  CHECK(sync.buffered_diffs() == 1);  // the diff after the hole is kept
  CHECK(sync.on_snapshot(snapshot(15).view()) == SnapshotOutcome::Applied);
  CHECK(sync.book().update_id() == 16);
}

TEST_CASE("a snapshot that arrives before any diff is checked by the first diff", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64);
  CHECK(sync.on_snapshot(snapshot(100).view()) == SnapshotOutcome::Applied);
  CHECK(sync.on_diff(DiffData{90, 100, {}, {}}.view()) == DiffOutcome::Stale);
  CHECK(sync.on_diff(DiffData{95, 105, {}, {}}.view()) == DiffOutcome::Applied);  // U <= 101 <= u
  CHECK(sync.book().update_id() == 105);
  DepthSynchronizer late(kSym, 64);
  late.on_snapshot(snapshot(100).view());
  CHECK(late.on_diff(DiffData{103, 110, {}, {}}.view()) == DiffOutcome::Gap);
}

TEST_CASE("a crossed book is counted and resynced", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64);
  sync.on_snapshot(snapshot(10).view());
  CHECK(sync.on_diff(DiffData{11, 11, {L(101, 1)}, {}}.view()) == DiffOutcome::Crossed);  // bid 101 >= ask 101
  CHECK(!sync.synced());
  CHECK(sync.stats().crossed == 1);
  CHECK(sync.stats().resyncs == 1);
  CHECK(sync.take_snapshot_request());
  SnapData crossed{20, {L(105, 1)}, {L(104, 1)}};
  CHECK(sync.on_snapshot(crossed.view()) == SnapshotOutcome::Crossed);
  CHECK(sync.stats().crossed == 2);
}

TEST_CASE("reconnect throws the book away and restarts the procedure", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64);
  (void)sync.take_snapshot_request();
  sync.on_snapshot(snapshot(10).view());
  REQUIRE(sync.synced());
  sync.on_reconnect();
  CHECK(!sync.synced());
  CHECK(sync.book().empty());
  CHECK(sync.take_snapshot_request());
  CHECK(sync.stats().resyncs == 1);
  CHECK(sync.on_diff(DiffData{50, 52, {}, {}}.view()) == DiffOutcome::Buffered);
  CHECK(sync.on_snapshot(snapshot(10).view()) == SnapshotOutcome::TooOld);  // old answer
  CHECK(sync.on_snapshot(snapshot(51).view()) == SnapshotOutcome::Applied);
  CHECK(sync.stats().last_update_id == 52);
}

TEST_CASE("a late duplicate snapshot is ignored once synced", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64);
  sync.on_snapshot(snapshot(10).view());
  CHECK(sync.on_snapshot(snapshot(5).view()) == SnapshotOutcome::Ignored);
  CHECK(sync.book().update_id() == 10);
}

TEST_CASE("buffer overflow restarts buffering instead of growing without bound", "[market][sync]") {
  DepthSynchronizer sync(kSym, 64, 4);
  sync.on_diff(DiffData{1, 1, {L(1, 1), L(2, 1)}, {}}.view());
  sync.on_diff(DiffData{2, 2, {L(3, 1), L(4, 1)}, {}}.view());
  sync.on_diff(DiffData{3, 3, {L(5, 1)}, {}}.view());  // 5 > 4 levels
  CHECK(sync.stats().buffer_overflows == 1);
  CHECK(sync.buffered_diffs() == 1);
  CHECK(sync.on_snapshot(snapshot(1).view()) == SnapshotOutcome::TooOld);  // first buffered U is now 3
}

// DepthSynchronizer: keeps one symbol's L2Book consistent with Binance by the documented
// "local order book" procedure (binance-spot reference section 3), and says when it needs a REST
// depth snapshot. It never fetches anything itself: when `take_snapshot_request()` returns true
// the owner must send GET /api/v3/depth and hand the answer to `on_snapshot()`.
//
// Procedure, exactly:
//  1. Buffer diffs from the start; remember the first buffered U. Request a snapshot.
//  2. Snapshot arrives. If lastUpdateId < first buffered U: too old, request another one (the
//     buffer is kept).
//  3. Book := snapshot, bookId := lastUpdateId. Buffered diffs with u <= lastUpdateId are
//     dropped. The first remaining diff must satisfy U <= lastUpdateId+1 <= u.
//  4. Every later diff: u <= bookId -> stale, ignored (the spec says u < bookId; u == bookId
//     carries nothing newer either); U > bookId+1 -> gap: discard the book, count it, restart at
//     step 1 with this diff as the first buffered one; else apply every level (qty 0 erases,
//     erasing an absent level is fine) and bookId := u.
//  5. After every applied diff or snapshot, a crossed book (best bid >= best ask) counts as
//     `crossed` and restarts at step 1. A reconnect (`on_reconnect`) restarts at step 1 too.
// A snapshot that arrives before any diff is accepted and the first diff is then checked with
// the same bridging rule (U > bookId+1 -> gap -> resync).
// Buffering copies levels into reused flat storage (the decoder's spans die after the call); a
// buffer that would exceed `max_buffered_levels` is discarded and buffering restarts.
// Owned and called by the trading thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tradingbot/book/l2_book.hpp"
#include "tradingbot/market/events.hpp"

namespace tb::market {

enum class SyncState : std::uint8_t {
  AwaitingSnapshot,  // buffering diffs; a snapshot has been requested
  Synced,            // book mirrors the exchange at book().update_id()
};

enum class DiffOutcome : std::uint8_t {
  Applied,   // book advanced to the diff's u
  Buffered,  // not synced yet; kept for when the snapshot arrives
  Stale,     // u <= bookId, ignored
  Gap,       // U > bookId+1: book discarded, resync started
  Crossed,   // applied, but the book crossed: discarded, resync started
};

enum class SnapshotOutcome : std::uint8_t {
  Applied,    // book loaded; synced (buffered diffs replayed)
  TooOld,     // lastUpdateId < first buffered U: another snapshot requested
  Ignored,    // already synced: a late or duplicate answer
  Gap,        // no buffered diff bridges the snapshot: resync started
  Crossed,    // the snapshot (+ buffered diffs) produced a crossed book: resync started
};

struct SyncStats {
  bool synced = false;
  UpdateId last_update_id = 0;
  std::uint64_t resyncs = 0;             // times a synced (or loading) book was thrown away
  std::uint64_t gaps = 0;                // U > bookId+1 seen while synced
  std::uint64_t crossed = 0;             // crossed books detected
  std::uint64_t snapshots_requested = 0;
  std::uint64_t snapshots_applied = 0;
  std::uint64_t snapshots_too_old = 0;
  std::uint64_t diffs_applied = 0;
  std::uint64_t diffs_stale = 0;
  std::uint64_t diffs_buffered = 0;
  std::uint64_t buffer_overflows = 0;
};

class DepthSynchronizer {
 public:
  static constexpr std::size_t kDefaultMaxBufferedLevels = 1 << 20;

  explicit DepthSynchronizer(Symbol symbol, std::size_t book_reserve = book::L2Book::kDefaultReserve,
                             std::size_t max_buffered_levels = kDefaultMaxBufferedLevels);

  DiffOutcome on_diff(const DepthDiff& diff);
  SnapshotOutcome on_snapshot(const DepthSnapshot& snapshot);
  // The stream connection dropped or was replaced: the book can no longer be trusted.
  void on_reconnect();
  // The REST snapshot request failed (network, 429, error body): ask again. Backoff and
  // rate-limit pacing belong to whoever sends the request.
  void on_snapshot_failed();

  // True once per needed snapshot: the owner should now send one REST depth request.
  [[nodiscard]] bool take_snapshot_request() noexcept {
    const bool wanted = snapshot_wanted_;
    snapshot_wanted_ = false;
    return wanted;
  }
  [[nodiscard]] bool snapshot_request_pending() const noexcept { return snapshot_wanted_; }

  [[nodiscard]] SyncState state() const noexcept { return state_; }
  [[nodiscard]] bool synced() const noexcept { return state_ == SyncState::Synced; }
  [[nodiscard]] const book::L2Book& book() const noexcept { return book_; }
  [[nodiscard]] const Symbol& symbol() const noexcept { return symbol_; }
  [[nodiscard]] SyncStats stats() const noexcept;
  [[nodiscard]] std::size_t buffered_diffs() const noexcept { return buffered_.size(); }

 private:
  struct BufferedDiff {
    UpdateId first = 0;
    UpdateId final = 0;
    std::size_t offset = 0;  // into buffered_levels_
    std::uint32_t bid_count = 0;
    std::uint32_t ask_count = 0;
  };

  void restart(bool count_resync);  // discard book and buffer, request a snapshot
  void buffer(const DepthDiff& diff);
  void apply(UpdateId final_id, LevelSpan bids, LevelSpan asks);
  DiffOutcome apply_live(UpdateId first, UpdateId final_id, LevelSpan bids, LevelSpan asks);

  Symbol symbol_;
  book::L2Book book_;
  SyncState state_ = SyncState::AwaitingSnapshot;
  bool snapshot_wanted_ = true;  // a fresh synchronizer needs its first snapshot
  std::size_t max_buffered_levels_;
  std::vector<BufferedDiff> buffered_;
  std::vector<Level> buffered_levels_;
  SyncStats stats_;
};

}  // namespace tb::market

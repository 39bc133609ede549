#include "tradingbot/market/depth_synchronizer.hpp"

#include <algorithm>

namespace tb::market {

using book::BookSide;

DepthSynchronizer::DepthSynchronizer(Symbol symbol, std::size_t book_reserve, std::size_t max_buffered_levels)
    : symbol_(symbol), book_(book_reserve), max_buffered_levels_(max_buffered_levels) {
  buffered_.reserve(256);
  buffered_levels_.reserve(std::min<std::size_t>(max_buffered_levels_, 64 * 1024));
  stats_.snapshots_requested = 1;
}

SyncStats DepthSynchronizer::stats() const noexcept {
  SyncStats s = stats_;
  s.synced = synced();
  s.last_update_id = synced() ? book_.update_id() : 0;
  return s;
}

void DepthSynchronizer::restart(bool count_resync) {
  if (count_resync) ++stats_.resyncs;
  book_.clear();
  buffered_.clear();
  buffered_levels_.clear();
  state_ = SyncState::AwaitingSnapshot;
  if (!snapshot_wanted_) {
    snapshot_wanted_ = true;
    ++stats_.snapshots_requested;
  }
}

void DepthSynchronizer::on_reconnect() { restart(true); }

void DepthSynchronizer::on_snapshot_failed() {
  if (state_ == SyncState::Synced || snapshot_wanted_) return;
  snapshot_wanted_ = true;
  ++stats_.snapshots_requested;
}

void DepthSynchronizer::buffer(const DepthDiff& diff) {
  const std::size_t n = diff.bids.size() + diff.asks.size();
  if (buffered_levels_.size() + n > max_buffered_levels_) {
    // The snapshot is taking far too long; start over from this diff (the pending request stays).
    ++stats_.buffer_overflows;
    buffered_.clear();
    buffered_levels_.clear();
  }
  BufferedDiff b;
  b.first = diff.first_update_id;
  b.final = diff.final_update_id;
  b.offset = buffered_levels_.size();
  b.bid_count = static_cast<std::uint32_t>(diff.bids.size());
  b.ask_count = static_cast<std::uint32_t>(diff.asks.size());
  buffered_levels_.insert(buffered_levels_.end(), diff.bids.begin(), diff.bids.end());
  buffered_levels_.insert(buffered_levels_.end(), diff.asks.begin(), diff.asks.end());
  buffered_.push_back(b);
  ++stats_.diffs_buffered;
}

void DepthSynchronizer::apply(UpdateId final_id, LevelSpan bids, LevelSpan asks) {
  book_.apply_levels(BookSide::Bid, bids);
  book_.apply_levels(BookSide::Ask, asks);
  book_.set_update_id(final_id);
  ++stats_.diffs_applied;
}

DiffOutcome DepthSynchronizer::apply_live(UpdateId first, UpdateId final_id, LevelSpan bids, LevelSpan asks) {
  const UpdateId book_id = book_.update_id();
  if (final_id <= book_id) {
    ++stats_.diffs_stale;
    return DiffOutcome::Stale;
  }
  if (first > book_id + 1) return DiffOutcome::Gap;
  apply(final_id, bids, asks);
  if (book_.crossed()) return DiffOutcome::Crossed;
  return DiffOutcome::Applied;
}

DiffOutcome DepthSynchronizer::on_diff(const DepthDiff& diff) {
  if (state_ != SyncState::Synced) {
    buffer(diff);
    return DiffOutcome::Buffered;
  }
  const DiffOutcome outcome = apply_live(diff.first_update_id, diff.final_update_id, diff.bids, diff.asks);
  if (outcome == DiffOutcome::Gap) {
    ++stats_.gaps;
    restart(true);
    buffer(diff);  // events from U on are intact: they start the new buffer
  } else if (outcome == DiffOutcome::Crossed) {
    ++stats_.crossed;
    restart(true);
  }
  return outcome;
}

SnapshotOutcome DepthSynchronizer::on_snapshot(const DepthSnapshot& snapshot) {
  if (state_ == SyncState::Synced) return SnapshotOutcome::Ignored;
  if (!buffered_.empty() && snapshot.last_update_id < buffered_.front().first) {
    ++stats_.snapshots_too_old;
    if (!snapshot_wanted_) {
      snapshot_wanted_ = true;
      ++stats_.snapshots_requested;
    }
    return SnapshotOutcome::TooOld;
  }
  book_.load_snapshot(snapshot.bids, snapshot.asks, snapshot.last_update_id);
  state_ = SyncState::Synced;
  snapshot_wanted_ = false;  // answered (a duplicate request in flight will be Ignored)
  ++stats_.snapshots_applied;
  if (book_.crossed()) {
    ++stats_.crossed;
    restart(true);
    return SnapshotOutcome::Crossed;
  }
  // Replay the buffer through the live rule: diffs with u <= lastUpdateId are stale (dropped),
  // the first remaining one must bridge (U <= lastUpdateId+1 <= u), the rest must be continuous.
  for (std::size_t i = 0; i < buffered_.size(); ++i) {
    const BufferedDiff& b = buffered_[i];
    const Level* base = buffered_levels_.data() + b.offset;
    const DiffOutcome outcome =
        apply_live(b.first, b.final, LevelSpan(base, b.bid_count), LevelSpan(base + b.bid_count, b.ask_count));
    if (outcome == DiffOutcome::Gap) {
      ++stats_.gaps;
      // Keep diffs [i, end) as the new buffer: they are intact from their U on.
      const std::size_t level_offset = b.offset;
      buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<std::ptrdiff_t>(i));
      buffered_levels_.erase(buffered_levels_.begin(), buffered_levels_.begin() + static_cast<std::ptrdiff_t>(level_offset));
      for (auto& rest : buffered_) rest.offset -= level_offset;
      ++stats_.resyncs;
      book_.clear();
      state_ = SyncState::AwaitingSnapshot;
      snapshot_wanted_ = true;
      ++stats_.snapshots_requested;
      return SnapshotOutcome::Gap;
    }
    if (outcome == DiffOutcome::Crossed) {
      ++stats_.crossed;
      restart(true);
      return SnapshotOutcome::Crossed;
    }
  }
  buffered_.clear();
  buffered_levels_.clear();
  return SnapshotOutcome::Applied;
}

}  // namespace tb::market

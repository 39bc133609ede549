// BookSnapshot: saves a whole MatchingEngine (instrument rules, reference price, id counters,
// update id and every open order in priority order) to bytes and restores it. The simulator
// uses it to persist and reload its books; tests use it to compare books.
//
// Format (all integers little-endian, fixed width, so the bytes do not depend on the host):
//   header  : magic "TBBOOKSN" | u32 version (1) | u32 header size (32) | u64 payload size |
//             u64 FNV-1a-64 checksum of the payload
//   payload : symbol (u8 length + bytes) | 9 x i64 rules | i64 reference price |
//             u64 next order id | u64 next trade id | u64 update id |
//             u64 bid order count | u64 ask order count |
//             orders, bids then asks, best level first and FIFO within a level:
//               u64 id | u64 account | i64 price | i64 open | i64 filled | i64 filled quote |
//               i64 working time | u8 type | u8 stp | u8 client id length | client id bytes
// save(restore(bytes)) == bytes. restore() checks the header, the checksum and every field
// (ranges, priority order, uncrossed book, unique ids) before touching the engine, so a corrupt,
// truncated or hand-made snapshot is refused with a status and a reason and leaves the engine
// unchanged. It never reads out of bounds.
//
// Threading: the engine's owner thread (both functions read or replace engine state).
// save/restore are control-path calls: they allocate and take time linear in the book.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tradingbot/book/matching_engine.hpp"

namespace tb::book {

enum class SnapshotStatus : std::uint8_t {
  Ok,
  Truncated,           // shorter than its header or its declared payload
  BadMagic,            // not a book snapshot
  UnsupportedVersion,  // written by a newer format
  BadLength,           // payload size in the header disagrees with the bytes given
  ChecksumMismatch,    // payload bytes corrupted
  Malformed,           // checksum fine but the content is not a valid book (see detail)
};

struct SnapshotResult {
  SnapshotStatus status = SnapshotStatus::Ok;
  std::string_view detail;  // static text naming the failed check; empty when Ok
  [[nodiscard]] bool ok() const noexcept { return status == SnapshotStatus::Ok; }
};

[[nodiscard]] std::string_view to_string(SnapshotStatus status) noexcept;

class BookSnapshot {
 public:
  static constexpr std::uint32_t kVersion = 1;
  static constexpr std::size_t kHeaderSize = 32;

  // Appends nothing: `out` is replaced by the snapshot bytes (its capacity is reused).
  static void save(const MatchingEngine& engine, std::vector<std::uint8_t>& out);
  [[nodiscard]] static std::vector<std::uint8_t> save(const MatchingEngine& engine);
  // Replaces the engine's whole state (rules included) with the snapshot's; emits no events.
  // On failure the engine is unchanged.
  static SnapshotResult restore(std::span<const std::uint8_t> bytes, MatchingEngine& engine);
};

}  // namespace tb::book

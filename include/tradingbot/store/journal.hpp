// Journal: the store's local, append-only record of everything the trading thread handed over,
// so a database outage or a crash loses nothing that reached it.
//
// Layout of `dir`:
//   journal.id                 random id of this journal (the database remembers, per journal
//                              id, the highest sequence it committed: backfill is exactly once)
//   checkpoint                 "highest sequence confirmed in the DB", atomically replaced
//                              (write tmp, fsync, rename, fsync dir); lets old segments go
//   00000000000000000001.tbj   segments named by their first sequence, rolled at segment_bytes
// Segment: 32-byte header (magic "TBJOURN1", format version, record-layout fingerprint, first
// sequence, header CRC), then frames:
//   u32 payload length | u32 CRC-32 of (seq, payload) | u64 seq | payload = u8 kind + record bytes
// Records are the trivially copyable structs of records.hpp copied as bytes: a layout change
// changes the fingerprint, and open() refuses a journal written with another layout (drain it
// with the old binary first) instead of misreading it.
//
// Sequences start at 1 and grow by one per record. append() writes a whole batch with one
// write() and then fdatasync()s: a batch is durable when append() returns true. open() scans
// every segment and cuts a torn, truncated or corrupt tail at the first bad frame (CRC, length,
// or sequence out of order), with one warn line saying what was cut, keeping every earlier record.
//
// Not thread-safe: one owner thread (the store thread; or the main thread before the store
// thread starts / after it stopped).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tradingbot/core/result.hpp"
#include "tradingbot/store/records.hpp"

namespace tb::store {

struct JournalOptions {
  std::filesystem::path dir;
  std::uint64_t segment_bytes = 64ull << 20;  // roll to a new segment after this many bytes
};

// What open() found and repaired.
struct JournalOpenReport {
  std::uint64_t records = 0;          // valid records kept
  std::uint64_t first_seq = 0;        // 0 when empty
  std::uint64_t last_seq = 0;         // 0 when empty
  std::uint64_t truncated_bytes = 0;  // bytes cut from torn/corrupt tails
  std::uint64_t checkpoint = 0;       // highest sequence known to be in the DB
  std::vector<std::string> repairs;   // one line per repair (also logged at warn)
};

class Journal {
 public:
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Creates the directory if needed, scans and repairs. Errors: unreadable directory,
  // a journal of another format/layout, I/O errors.
  static Result<std::unique_ptr<Journal>> open(const JournalOptions& options);

  [[nodiscard]] const JournalOpenReport& open_report() const noexcept { return report_; }
  [[nodiscard]] const std::string& id() const noexcept { return id_; }
  [[nodiscard]] std::uint64_t first_seq() const noexcept;  // 0 when empty
  [[nodiscard]] std::uint64_t last_seq() const noexcept { return last_seq_; }
  [[nodiscard]] std::uint64_t size_bytes() const noexcept;  // all segments
  [[nodiscard]] const std::string& last_error() const noexcept { return error_; }

  // Gives records[i].seq = last_seq()+1+i, writes them and fdatasyncs. On failure nothing of
  // the batch stays in the file (it is cut back), sequences are not consumed, and the reason
  // is in last_error(); the caller keeps the batch and retries.
  [[nodiscard]] bool append(SequencedRecord* records, std::size_t count);

  // Reads up to `max` records with seq >= from, in order, into `out` (cleared first). Sequential
  // reads (from = last read + 1) continue where the previous read stopped. False on I/O error.
  [[nodiscard]] bool read(std::uint64_t from, std::size_t max, std::vector<SequencedRecord>& out);

  // Makes the next sequence at least seq+1 (starts a new segment). Used when the database has
  // seen sequences of this journal id that the journal no longer holds (journal files lost),
  // so new records are never mistaken for already-committed ones.
  [[nodiscard]] bool advance_to(std::uint64_t seq);

  [[nodiscard]] std::uint64_t checkpoint() const noexcept { return checkpoint_; }
  // Durably records that every sequence <= seq is in the database.
  [[nodiscard]] bool write_checkpoint(std::uint64_t seq);
  // Deletes whole segments (never the one being appended to) whose records are all <= seq.
  std::size_t prune_through(std::uint64_t seq);

  // Layout fingerprint of records.hpp as compiled into this binary.
  static std::uint32_t layout_fingerprint() noexcept;

 private:
  struct Segment {
    std::uint64_t first_seq = 0;  // from the header
    std::uint64_t last_seq = 0;   // 0 when it holds no record
    std::uint64_t size = 0;
    std::filesystem::path path;
  };
  explicit Journal(JournalOptions options);
  bool scan_segment(Segment& segment, bool is_last, std::uint64_t& expected_seq);
  bool start_segment(std::uint64_t first_seq);
  bool fail(std::string message);

  JournalOptions options_;
  JournalOpenReport report_;
  std::string id_;
  std::string error_;
  std::vector<Segment> segments_;
  int fd_ = -1;  // the last segment, open for appending
  std::uint64_t last_seq_ = 0;
  std::uint64_t checkpoint_ = 0;
  std::vector<unsigned char> write_buffer_;
  // Sequential read cursor.
  struct Cursor {
    std::size_t segment = 0;
    std::uint64_t offset = 0;
    std::uint64_t next_seq = 0;  // 0: invalid
  } cursor_;
  std::vector<unsigned char> read_buffer_;
};

}  // namespace tb::store

// Market-data capture files: reading (replay, tests, benchmarks) and writing (`tradingbot
// record`). ARCHITECTURE.md section 7 format: text, optionally gzip, one message per line
// `<receive_unix_ns> <raw payload>`; WebSocket frames exactly as received; a REST depth snapshot
// as its bare JSON (single-symbol files) or as {"stream":"<symbol>@depthSnapshot","data":<JSON>}.
// The reader also understands the cryptofeed sample formats in shared/data/binance:
//   ws file:   first line `<wss url> <-> <ts>` (a header), then `<unix_ts_float>: <raw JSON>`;
//   http file: `<url> -> <unix_ts_float>: <raw JSON>` (the url carries ?symbol=...).
// Plain and gzip files are both read through zlib (gzread passes plain files through).
// The reader hands out views into one reused buffer that always keeps at least
// kCapturePadding readable bytes after every payload (simdjson's SIMDJSON_PADDING), so a
// payload can be parsed in place; no allocation per line (the buffer only grows for a line
// longer than any before). A record is valid until the next call to next().
// One reader/writer per thread; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb::market {

// >= SIMDJSON_PADDING (64 in simdjson 3.0.1); the market module does not depend on simdjson.
inline constexpr std::size_t kCapturePadding = 64;

enum class CaptureLineForm : std::uint8_t {
  Native,          // `<ns> <payload>`
  CryptofeedWs,    // `<float secs>: <payload>`
  CryptofeedHttp,  // `<url> -> <float secs>: <payload>`
};

struct CaptureRecord {
  Nanos recv_ns = 0;
  std::string_view payload;  // raw JSON; kCapturePadding readable bytes follow it
  std::size_t capacity = 0;  // readable bytes from payload.data() (>= size + kCapturePadding)
  std::string_view url;      // REST url for CryptofeedHttp lines, else empty
  Symbol url_symbol;         // `symbol=` query parameter of `url`, if any
  CaptureLineForm form = CaptureLineForm::Native;
  std::uint64_t line_number = 0;  // 1-based, in the file
};

class CaptureReader {
 public:
  static constexpr std::size_t kInitialBuffer = 1 << 20;

  CaptureReader();
  ~CaptureReader();
  CaptureReader(CaptureReader&&) noexcept;
  CaptureReader& operator=(CaptureReader&&) noexcept;
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // Opens a plain or gzip file. Error names the file and the reason.
  static Result<CaptureReader> open(const std::string& path);

  enum class Status : std::uint8_t { Record, End, Error };
  // Next message line. Blank lines and the cryptofeed ws header are skipped; a line whose
  // timestamp cannot be parsed is counted in bad_lines() and skipped.
  Status next(CaptureRecord& out);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const std::string& header() const noexcept { return header_; }  // ws header line
  [[nodiscard]] std::uint64_t bad_lines() const noexcept { return bad_lines_; }
  [[nodiscard]] std::uint64_t lines() const noexcept { return line_number_; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  bool fill();  // reads more bytes; false at end of file or on error

  std::string path_;
  void* gz_ = nullptr;  // gzFile (kept opaque so zlib.h stays out of this header)
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;    // allocated bytes; data never goes past cap_ - kCapturePadding
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last valid byte
  bool eof_ = false;
  std::uint64_t line_number_ = 0;
  std::uint64_t bad_lines_ = 0;
  std::string header_;
  std::string error_;
};

// Parses a capture timestamp: integer nanoseconds ("1723161253937085768") or decimal seconds
// ("1633998512.0633569"), exactly (no double). Returns false when malformed.
[[nodiscard]] bool parse_capture_timestamp(std::string_view text, Nanos& out) noexcept;
// Parses one capture line (without its newline) into `out` (payload/url view into `line`).
// Returns false for a blank line, a ws header line, or a malformed line; sets `is_header`.
[[nodiscard]] bool parse_capture_line(std::string_view line, CaptureRecord& out, bool& is_header) noexcept;

class CaptureWriter {
 public:
  CaptureWriter();
  ~CaptureWriter();
  CaptureWriter(CaptureWriter&&) noexcept;
  CaptureWriter& operator=(CaptureWriter&&) noexcept;
  CaptureWriter(const CaptureWriter&) = delete;
  CaptureWriter& operator=(const CaptureWriter&) = delete;

  // gzip when the path ends in ".gz", plain text otherwise. Truncates an existing file.
  static Result<CaptureWriter> open(const std::string& path);

  // `<recv_ns> <payload>\n` (payload must not contain a newline; frames never do).
  bool write_frame(Nanos recv_ns, std::string_view payload);
  // A REST depth snapshot: bare JSON, or wrapped as {"stream":"<symbol>@depthSnapshot",...}
  // when the capture holds several symbols.
  bool write_snapshot(Nanos recv_ns, const Symbol& symbol, std::string_view rest_json, bool multi_symbol);
  bool flush();
  bool close();  // also done by the destructor

 private:
  void* gz_ = nullptr;
  std::string line_;  // reused line buffer
};

}  // namespace tb::market

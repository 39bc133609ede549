// StreamDecoder: turns Binance WebSocket market-stream frames (combined-stream envelopes
// {"stream":..,"data":..} and raw payloads) and REST depth snapshots into normalized
// tb::market events, with simdjson On-Demand and ONE reused parser. The four events of nearly
// all live traffic (depthUpdate, bookTicker, trade, aggTrade) are first tried in Binance's exact
// compact form by a strict one-pass scanner; any deviation goes to simdjson, with the same result.
// Within it, where the CPU has AVX2, Binance-form decimals ("61737.63000000") are converted two at
// a time in one vector pass (a depth level's price and quantity, a bookTicker's bid and ask
// pairs); scalar otherwise.
//
// Decoded: bookTicker, trade, aggTrade, depthUpdate, partial depth (depth5/10/20, symbol from the
// stream name), kline, serverShutdown (raw and "!serverShutdown"), control replies
// {"result":..,"id":..}, error frames {"code":..,"msg":..}, REST depth snapshots (bare, or the
// recorder's "<symbol>@depthSnapshot" envelope). Other well-formed events (miniTicker, ticker,
// avgPrice, blockTrade, referencePrice, ...) decode as MessageKind::Unsupported with their event
// type and symbol. Dispatch is by stream name when there is one, else by "e", else by shape
// (bookTicker and partial depth have no "e"). Prices and quantities go straight from the decimal
// strings into int64 fixed point.
//
// A malformed, truncated or oversized frame returns a non-Ok status, is counted, and produces no
// event, so it can never reach a book. Level spans and string views in a DecodedMessage point
// into the decoder's reused storage or the input buffer: valid until the next decode call. No
// allocation per message once warm (level vectors and the parser grow only for a larger frame
// than any before).
// One decoder per thread (the trading thread); not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "tradingbot/market/events.hpp"

namespace tb::binance {

enum class MessageKind : std::uint8_t {
  None,
  BookTicker,
  DepthDiff,
  DepthSnapshot,
  PartialDepth,
  Trade,
  AggTrade,
  Kline,
  ServerShutdown,
  ControlReply,  // {"result":..,"id":..}
  ErrorReply,    // {"code":..,"msg":..}
  Unsupported,   // valid JSON we do not turn into an event (event_type/symbol filled if known)
};
std::string_view to_string(MessageKind kind) noexcept;

enum class DecodeStatus : std::uint8_t {
  Ok,
  Oversized,  // frame larger than Options::max_frame_bytes
  Malformed,  // not JSON, truncated, trailing garbage, not an object
  BadField,   // JSON fine but a required field is missing or has the wrong type/format
};
std::string_view to_string(DecodeStatus status) noexcept;

enum class JsonKind : std::uint8_t { Absent, Null, Bool, Number, String, Array, Object };

struct ControlReply {
  JsonKind result_kind = JsonKind::Absent;
  std::string_view result_json;  // raw JSON of "result" (e.g. `null`, `true`, `["btcusdt@aggTrade"]`)
  bool has_id = false;
  bool id_is_string = false;
  std::int64_t id = 0;
  std::string_view id_string;
};

struct ErrorReply {
  std::int64_t code = 0;
  std::string_view msg;
  bool has_id = false;
  std::int64_t id = 0;
};

// Exactly one member (chosen by `kind`) is meaningful.
struct DecodedMessage {
  MessageKind kind = MessageKind::None;
  std::string_view stream;      // combined-stream name, or the raw-stream hint; may be empty
  std::string_view event_type;  // "e" when present
  Symbol symbol;                // the event's symbol when it has one
  market::BookTicker book_ticker;
  market::DepthDiff depth_diff;
  market::DepthSnapshot depth_snapshot;
  market::PartialDepth partial_depth;
  market::Trade trade;
  market::AggTrade agg_trade;
  market::Kline kline;
  market::ServerShutdown server_shutdown;
  ControlReply control;
  ErrorReply error;
};

struct DecoderStats {
  std::uint64_t frames = 0;
  std::uint64_t ok = 0;
  std::uint64_t oversized = 0;
  std::uint64_t malformed = 0;
  std::uint64_t bad_field = 0;
  std::uint64_t unsupported = 0;  // counted inside ok
  std::uint64_t bytes = 0;
  [[nodiscard]] std::uint64_t errors() const noexcept { return oversized + malformed + bad_field; }
};

class StreamDecoder {
 public:
  struct Options {
    std::size_t max_frame_bytes = 8u << 20;     // a 5000-level snapshot is ~0.4 MB
    std::size_t max_levels_per_side = 20'000;   // more is treated as oversized
    std::size_t reserve_levels_per_side = 8192;
    std::size_t reserve_frame_bytes = 1u << 20;
    // depthUpdate, bookTicker, trade and aggTrade frames in Binance's exact compact form skip
    // simdjson (see decode_exact); off only where tests hold that path to the generic decoder.
    bool exact_form_fast_path = true;
    // Within it, Binance-form decimals (depth levels, a bookTicker's prices and quantities) are
    // converted two at a time with AVX2 where the CPU has it; off only where tests hold the
    // scalar version to the generic one.
    bool exact_form_vector_decimals = true;
  };
  static constexpr std::size_t kPadding = 64;  // == SIMDJSON_PADDING (static_assert in the .cpp)

  StreamDecoder();
  explicit StreamDecoder(Options options);
  ~StreamDecoder();
  StreamDecoder(const StreamDecoder&) = delete;
  StreamDecoder& operator=(const StreamDecoder&) = delete;

  // A WebSocket text frame. `raw_stream` names the stream of a raw (/ws/<stream>) connection so
  // payloads without an envelope (partial depth) get their symbol; empty for combined streams.
  // A bare {"lastUpdateId",...} with no stream name decodes as DepthSnapshot (symbol empty).
  // This overload copies the frame into an internal padded buffer.
  DecodeStatus decode_frame(std::string_view frame, DecodedMessage& out, std::string_view raw_stream = {});
  // Zero-copy form: `capacity` readable bytes start at `data` (capacity >= len + kPadding).
  DecodeStatus decode_frame_padded(const char* data, std::size_t len, std::size_t capacity, DecodedMessage& out,
                                   std::string_view raw_stream = {});
  // A REST GET /api/v3/depth body for `symbol` -> MessageKind::DepthSnapshot.
  DecodeStatus decode_depth_snapshot(std::string_view json, const Symbol& symbol, DecodedMessage& out);

  [[nodiscard]] const DecoderStats& stats() const noexcept { return stats_; }

 private:
  struct Impl;
  DecodeStatus count(DecodeStatus status, DecodedMessage& out) noexcept;
  std::unique_ptr<Impl> impl_;
  DecoderStats stats_;
};

// Splits a stream name "<symbol>@<type>[@<speed>]" into what the decoder needs.
struct StreamName {
  Symbol symbol;        // empty for "!serverShutdown" and unknown forms
  MessageKind kind = MessageKind::Unsupported;
  int partial_depth = 0;  // 5/10/20 for <s>@depthN
};
[[nodiscard]] StreamName parse_stream_name(std::string_view stream) noexcept;

}  // namespace tb::binance

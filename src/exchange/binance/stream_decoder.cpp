#include "tradingbot/exchange/binance/stream_decoder.hpp"

#include <simdjson.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

#include "tradingbot/core/cpu_features.hpp"

namespace tb::binance {
namespace od = simdjson::ondemand;
using market::Level;

static_assert(StreamDecoder::kPadding == simdjson::SIMDJSON_PADDING, "kPadding must match simdjson");

std::string_view to_string(MessageKind kind) noexcept {
  switch (kind) {
    case MessageKind::None: return "none";
    case MessageKind::BookTicker: return "bookTicker";
    case MessageKind::DepthDiff: return "depthUpdate";
    case MessageKind::DepthSnapshot: return "depthSnapshot";
    case MessageKind::PartialDepth: return "partialDepth";
    case MessageKind::Trade: return "trade";
    case MessageKind::AggTrade: return "aggTrade";
    case MessageKind::Kline: return "kline";
    case MessageKind::ServerShutdown: return "serverShutdown";
    case MessageKind::ControlReply: return "controlReply";
    case MessageKind::ErrorReply: return "errorReply";
    case MessageKind::Unsupported: return "unsupported";
  }
  return "?";
}

std::string_view to_string(DecodeStatus status) noexcept {
  switch (status) {
    case DecodeStatus::Ok: return "ok";
    case DecodeStatus::Oversized: return "oversized";
    case DecodeStatus::Malformed: return "malformed";
    case DecodeStatus::BadField: return "bad_field";
  }
  return "?";
}

StreamName parse_stream_name(std::string_view stream) noexcept {
  StreamName out;
  if (stream == "!serverShutdown") {
    out.kind = MessageKind::ServerShutdown;
    return out;
  }
  const std::size_t at = stream.find('@');
  if (at == std::string_view::npos || at == 0) return out;
  if (auto symbol = Symbol::parse(stream.substr(0, at))) out.symbol = *symbol;
  std::string_view type = stream.substr(at + 1);
  const std::size_t at2 = type.find('@');
  const std::string_view speed = at2 == std::string_view::npos ? std::string_view{} : type.substr(at2 + 1);
  type = type.substr(0, at2);
  if (type == "bookTicker") {
    out.kind = MessageKind::BookTicker;
  } else if (type == "trade") {
    out.kind = MessageKind::Trade;
  } else if (type == "aggTrade") {
    out.kind = MessageKind::AggTrade;
  } else if (type == "depth") {
    out.kind = MessageKind::DepthDiff;
  } else if (type == "depth5" || type == "depth10" || type == "depth20") {
    out.kind = MessageKind::PartialDepth;
    out.partial_depth = type == "depth5" ? 5 : (type == "depth10" ? 10 : 20);
  } else if (type == "depthSnapshot") {
    out.kind = MessageKind::DepthSnapshot;
  } else if (type.substr(0, 6) == "kline_") {
    out.kind = MessageKind::Kline;
  }
  (void)speed;
  return out;
}

namespace {

MessageKind kind_of_event(std::string_view e) noexcept {
  if (e == "depthUpdate") return MessageKind::DepthDiff;
  if (e == "trade") return MessageKind::Trade;
  if (e == "aggTrade") return MessageKind::AggTrade;
  if (e == "kline") return MessageKind::Kline;
  if (e == "serverShutdown") return MessageKind::ServerShutdown;
  return MessageKind::Unsupported;
}

inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Key text straight from the input (Binance keys never contain escapes; an escaped key simply
// matches nothing and is ignored).
inline std::string_view key_of(od::raw_json_string key) noexcept {
  const char* p = key.raw();
  std::size_t n = 0;
  while (p[n] != '"') ++n;
  return {p, n};
}

// The contents of a JSON string value without unescaping (views into the input). False when
// the value is not a string.
inline bool string_token(od::value& v, std::string_view& out) noexcept {
  std::string_view tok = v.raw_json_token();
  std::size_t end = tok.size();
  while (end > 0 && is_space(tok[end - 1])) --end;
  if (end < 2 || tok[0] != '"' || tok[end - 1] != '"') return false;
  out = tok.substr(1, end - 2);
  return true;
}

// Eight ASCII digits -> their value, and the check that they are digits (simdjson's SWAR tricks).
inline bool eight_digits(const char* p, std::uint64_t& value) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if ((((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4))) !=
      0x3333333333333333ULL) {
    return false;
  }
  v = (v & 0x0F0F0F0F0F0F0F0FULL) * 2561 >> 8;
  v = (v & 0x00FF00FF00FF00FFULL) * 6553601 >> 16;
  value = (v & 0x0000FFFF0000FFFFULL) * 42949672960001ULL >> 32;
  return true;
}

// Binance's usual form "<1..10 digits>.<8 digits>" in a few instructions; anything else goes
// through the general tb::parse_fixed (same result, same rejections).
inline bool decimal_of(std::string_view text, std::int64_t& raw) noexcept {
  const std::size_t n = text.size();
  if (n >= 10 && n <= 19 && text[n - 9] == '.') {
    std::uint64_t frac = 0;
    if (eight_digits(text.data() + n - 8, frac)) {
      std::int64_t whole = 0;
      std::size_t i = 0;
      for (; i < n - 9; ++i) {
        const auto d = static_cast<unsigned>(text[i] - '0');
        if (d > 9) break;
        whole = whole * 10 + static_cast<std::int64_t>(d);
      }
      if (i == n - 9) {  // 1..10 integer digits: cannot overflow int64 at 1e8 scale
        raw = whole * kFixedScale + static_cast<std::int64_t>(frac);
        return true;
      }
    }
  }
  return parse_fixed(text, raw);
}

// Scans a JSON string holding a non-negative decimal, starting at its opening quote, and
// converts it in the same pass (same accepted forms as tb::parse_fixed: digits, optionally '.'
// and 1+ digits, at most 8 significant fractional digits). `p` ends after the closing quote.
// Rejects escapes, signs, exponents and anything else.
inline bool scan_decimal_string(const char*& p, const char* end, std::int64_t& raw) noexcept {
  if (p >= end || *p != '"') return false;
  ++p;
  std::int64_t whole = 0;
  const char* digits = p;
  // Up to 10 integer digits cannot overflow (nor can their scaling below); more are checked.
  const char* const unchecked_end = end - p > 10 ? p + 10 : end;
  while (p < unchecked_end && static_cast<unsigned>(*p - '0') <= 9) {
    whole = whole * 10 + (*p - '0');
    ++p;
  }
  while (p < end && static_cast<unsigned>(*p - '0') <= 9) {
    if (__builtin_mul_overflow(whole, std::int64_t{10}, &whole) ||
        __builtin_add_overflow(whole, std::int64_t{*p - '0'}, &whole)) {
      return false;
    }
    ++p;
  }
  if (p == digits) return false;
  std::int64_t frac = 0;
  if (p < end && *p == '.') {
    ++p;
    std::uint64_t eight = 0;
    if (end - p >= 9 && p[8] == '"' && eight_digits(p, eight)) {  // Binance's 8 decimals
      frac = static_cast<std::int64_t>(eight);
      p += 8;
    } else {
      int n = 0;
      const char* start = p;
      for (; p < end && static_cast<unsigned>(*p - '0') <= 9; ++p) {
        if (n < kFixedDecimals) {
          frac = frac * 10 + (*p - '0');
          ++n;
        } else if (*p != '0') {
          return false;
        }
      }
      if (p == start) return false;
      for (; n < kFixedDecimals; ++n) frac *= 10;
    }
  }
  if (p >= end || *p != '"') return false;
  ++p;
  std::int64_t value = 0;
  if (__builtin_mul_overflow(whole, kFixedScale, &value) || __builtin_add_overflow(value, frac, &value)) return false;
  raw = value;
  return true;
}

// The exact-form decoder's tokens (Impl::decode_exact): each consumes exactly its grammar from
// `p` or returns false, leaving the caller to decode the frame generically.
template <std::size_t N>
inline bool literal(const char*& p, const char* end, const char (&text)[N]) noexcept {
  constexpr std::size_t n = N - 1;
  if (static_cast<std::size_t>(end - p) < n || std::memcmp(p, text, n) != 0) return false;
  p += n;
  return true;
}

// A string's contents from just after its opening quote to the next quote; `p` ends after that
// quote. The contents are checked apart (plain_text), once the frame is known to be in the exact form.
inline bool quoted(const char*& p, const char* end, std::string_view& out) noexcept {
  const void* quote = std::memchr(p, '"', static_cast<std::size_t>(end - p));
  if (quote == nullptr) return false;
  const char* const close = static_cast<const char*>(quote);
  out = std::string_view(p, static_cast<std::size_t>(close - p));
  p = close + 1;
  return true;
}

// Printable ASCII only: no escape, no control character, no byte UTF-8 validation would look at.
inline bool plain_text(std::string_view text) noexcept {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
  }
  return true;
}

// A JSON integer >= 0 that fits 64 bits: digits without a leading zero. A fraction or exponent
// stops at the digits and fails the caller's next literal.
inline bool plain_uint(const char*& p, const char* end, std::uint64_t& out) noexcept {
  const char* const start = p;
  std::uint64_t value = 0;
  while (p < end && static_cast<unsigned>(*p - '0') <= 9) {
    if (__builtin_mul_overflow(value, std::uint64_t{10}, &value) ||
        __builtin_add_overflow(value, static_cast<std::uint64_t>(*p - '0'), &value)) {
      return false;
    }
    ++p;
  }
  if (p == start || (*start == '0' && p - start > 1)) return false;
  out = value;
  return true;
}

template <class Tag>
inline bool fixed_of(od::value& v, Fixed<Tag>& out) noexcept {
  std::string_view text;
  std::int64_t raw = 0;
  if (!string_token(v, text) || !decimal_of(text, raw)) return false;
  out = Fixed<Tag>::from_raw(raw);
  return true;
}

inline bool json_kind_of(od::value& v, JsonKind& out) noexcept {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::array: out = JsonKind::Array; break;
    case od::json_type::object: out = JsonKind::Object; break;
    case od::json_type::number: out = JsonKind::Number; break;
    case od::json_type::string: out = JsonKind::String; break;
    case od::json_type::boolean: out = JsonKind::Bool; break;
    case od::json_type::null: out = JsonKind::Null; break;
  }
  return true;
}

// ---- Level arrays ----
// [["price","qty"],...]: the bulk of every depth message. The pieces below are shared by the
// generic path (whitespace allowed between tokens), the exact form and its AVX2 version, so the
// three accept exactly the same texts.

enum class LevelScan : std::uint8_t { Ok, NotLevels, TooMany };

template <bool Spaces>
inline void skip_spaces(const char*& p, const char* end) noexcept {
  if constexpr (Spaces) {
    while (p < end && is_space(*p)) ++p;
  }
}

// The array's opening bracket; `p` ends on the first level's '[' or the closing ']'.
template <bool Spaces>
inline bool open_levels(const char*& p, const char* end) noexcept {
  skip_spaces<Spaces>(p, end);
  if (p >= end || *p++ != '[') return false;
  skip_spaces<Spaces>(p, end);
  return true;
}

// One ["price","qty"] from its '['; `p` ends after its ']'.
template <bool Spaces>
inline bool scan_level(const char*& p, const char* end, Level& level) noexcept {
  std::int64_t price = 0;
  std::int64_t qty = 0;
  skip_spaces<Spaces>(p, end);
  if (p >= end || *p++ != '[') return false;
  skip_spaces<Spaces>(p, end);
  if (!scan_decimal_string(p, end, price)) return false;
  skip_spaces<Spaces>(p, end);
  if (p >= end || *p++ != ',') return false;
  skip_spaces<Spaces>(p, end);
  if (!scan_decimal_string(p, end, qty)) return false;
  skip_spaces<Spaces>(p, end);
  if (p >= end || *p++ != ']') return false;
  level = Level{Price::from_raw(price), Qty::from_raw(qty)};
  return true;
}

// What follows a level: ',' and another level, the array's closing ']', or anything else.
enum class AfterLevel : std::uint8_t { Next, End, Bad };
template <bool Spaces>
inline AfterLevel after_level(const char*& p, const char* end) noexcept {
  skip_spaces<Spaces>(p, end);
  if (p >= end) return AfterLevel::Bad;
  if (*p == ',') {
    ++p;
    return AfterLevel::Next;
  }
  return *p++ == ']' ? AfterLevel::End : AfterLevel::Bad;
}

#if defined(__x86_64__)
// Shuffles that line up a Binance decimal "<d digits>.<8 digits>" (d = 1..6, so the string and its
// closing quote fit 16 bytes) as 16 digit bytes: the integer part right-aligned in bytes 0..7
// (0x80: a zero byte), the fraction in bytes 8..15.
struct DecimalShuffles {
  alignas(16) std::uint8_t by_digits[7][16];
};
constexpr DecimalShuffles make_decimal_shuffles() {
  DecimalShuffles t{};
  for (int d = 1; d <= 6; ++d) {
    for (int i = 0; i < 8; ++i) {
      const int from = i - (8 - d);
      t.by_digits[d][i] = from < 0 ? 0x80 : static_cast<std::uint8_t>(from);
      t.by_digits[d][8 + i] = static_cast<std::uint8_t>(d + 1 + i);
    }
  }
  return t;
}
constexpr DecimalShuffles kDecimalShuffles = make_decimal_shuffles();

// Offset of the first '"' in s[0..16), 16 when there is none.
__attribute__((target("avx2"))) inline unsigned quote_offset16(const char* s) noexcept {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  const auto quotes = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'))));
  return static_cast<unsigned>(__builtin_ctz(quotes | 0x10000u));
}

// Two decimals in Binance's form "<1..6 digits>.<8 digits>", whose strings start at `first` and
// `second` (just past their opening quotes) and close at offsets `first_len` and `second_len`,
// converted in one 256-bit pass: digits lined up by a shuffle, checked in one compare, then
// multiply-added in pairs, fours and eights. Reads 16 bytes from each start (the caller makes
// sure they are readable). False for anything else.
__attribute__((target("avx2"))) inline bool binance_decimal_pair(const char* first, unsigned first_len,
                                                                 const char* second, unsigned second_len,
                                                                 std::int64_t& x, std::int64_t& y) noexcept {
  const unsigned first_digits = first_len - 9;  // integer digits; wraps to huge when short
  const unsigned second_digits = second_len - 9;
  if (first_digits - 1 > 5 || second_digits - 1 > 5 || first[first_digits] != '.' || second[second_digits] != '.') {
    return false;
  }
  const __m256i text = _mm256_set_m128i(_mm_loadu_si128(reinterpret_cast<const __m128i*>(second)),
                                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(first)));
  const __m256i shuffle =
      _mm256_set_m128i(_mm_load_si128(reinterpret_cast<const __m128i*>(kDecimalShuffles.by_digits[second_digits])),
                       _mm_load_si128(reinterpret_cast<const __m128i*>(kDecimalShuffles.by_digits[first_digits])));
  const __m256i digits = _mm256_shuffle_epi8(_mm256_sub_epi8(text, _mm256_set1_epi8('0')), shuffle);
  // Every byte a digit (the zero fill is one): min(b, 9) == b.
  const __m256i nine = _mm256_set1_epi8(9);
  if (static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(digits, nine), digits))) !=
      0xFFFFFFFFu) {
    return false;
  }
  const __m256i pairs = _mm256_maddubs_epi16(digits, _mm256_set1_epi16(0x010A));  // 10a + b
  const __m256i fours = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00010064));  // 100x + y
  const __m256i fours16 = _mm256_packus_epi32(fours, fours);                       // < 10000: fits u16
  const __m256i eights = _mm256_madd_epi16(fours16, _mm256_set1_epi32(0x00012710));  // 10000x + y
  // Each 128-bit half now holds its number's integer part in lane 0 and fraction in lane 1
  // (lambdas would not inherit this function's target, so the lanes are read one by one).
  const __m128i first_words = _mm256_castsi256_si128(eights);
  const __m128i second_words = _mm256_extracti128_si256(eights, 1);
  const auto lane = [](int value) { return static_cast<std::int64_t>(static_cast<std::uint32_t>(value)); };
  x = lane(_mm_cvtsi128_si32(first_words)) * kFixedScale + lane(_mm_extract_epi32(first_words, 1));
  y = lane(_mm_cvtsi128_si32(second_words)) * kFixedScale + lane(_mm_extract_epi32(second_words, 1));
  return true;
}

// One ["price","qty"] in Binance's form from its '[', both numbers through binance_decimal_pair.
// It may read into the frame's padding (up to 37 bytes past `p`), but accepts a level only when
// every byte it stands for lies before `end`. False (and `p` untouched) for anything else, which
// the caller hands to scan_level.
__attribute__((target("avx2"))) inline bool binance_level(const char*& p, const char* end, Level& level) noexcept {
  std::uint16_t open;
  std::memcpy(&open, p, 2);
  if (open != ('[' | ('"' << 8))) return false;
  const char* const price = p + 2;
  const unsigned price_len = quote_offset16(price);
  const char* const qty = price + price_len + 3;  // after `","`
  const unsigned qty_len = quote_offset16(qty);
  if (qty + qty_len + 1 >= end || price[price_len + 1] != ',' || price[price_len + 2] != '"' ||
      qty[qty_len + 1] != ']') {
    return false;
  }
  std::int64_t price_raw = 0;
  std::int64_t qty_raw = 0;
  if (!binance_decimal_pair(price, price_len, qty, qty_len, price_raw, qty_raw)) return false;
  level = Level{Price::from_raw(price_raw), Qty::from_raw(qty_raw)};
  p = qty + qty_len + 2;
  return true;
}

// A bookTicker's four prices and quantities in Binance's form, from just before its "b" key:
// ,"b":"<bid>","B":"<bid qty>","a":"<ask>","A":"<ask qty>" (`p` ends after the last quote).
// Same contract as binance_level: false and `p` untouched unless every byte is that and lies
// before `end`; the caller then reads the fields one by one.
__attribute__((target("avx2"), flatten)) bool binance_ticker_prices(const char*& p, const char* end,
                                                                    market::BookTicker& t) noexcept {
  // The shortest such text is 68 bytes; requiring it bounds every read below to p + 87, inside
  // the 64 bytes of padding past `end`.
  static constexpr char kKeys[4][8] = {",\"b\":\"", "\",\"B\":\"", "\",\"a\":\"", "\",\"A\":\""};
  if (end - p < 68 || std::memcmp(p, kKeys[0], 6) != 0) return false;
  const char* strings[4];
  unsigned lengths[4];
  const char* next = p + 6;
  for (int k = 0; k < 4; ++k) {
    strings[k] = next;
    lengths[k] = quote_offset16(next);
    if (lengths[k] > 15) return false;
    next += lengths[k];  // the closing quote
    if (k < 3) {
      if (std::memcmp(next, kKeys[k + 1], 7) != 0) return false;
      next += 7;
    }
  }
  if (next >= end) return false;  // the last closing quote must be in the frame
  std::int64_t bid = 0, bid_qty = 0, ask = 0, ask_qty = 0;
  if (!binance_decimal_pair(strings[0], lengths[0], strings[1], lengths[1], bid, bid_qty) ||
      !binance_decimal_pair(strings[2], lengths[2], strings[3], lengths[3], ask, ask_qty)) {
    return false;
  }
  t.bid_price = Price::from_raw(bid);
  t.bid_qty = Qty::from_raw(bid_qty);
  t.ask_price = Price::from_raw(ask);
  t.ask_qty = Qty::from_raw(ask_qty);
  p = next + 1;
  return true;
}

#endif

// A level array [["price","qty"],...] scanned strictly from `p` (exact grammar, strings without
// escapes, exactly two decimal strings per level) into `out`; `p` ends after the closing bracket.
// `Spaces`: whether whitespace may appear between tokens (the generic path: JSON allows it); the
// exact form has none, and skipping the checks is a fifth of the scan.
// `Vector`: each level is first tried with binance_level (AVX2), then scan_level; only
// scan_levels_exact_avx2 instantiates it, inside its AVX2 target.
template <bool Spaces, bool Vector>
inline LevelScan scan_level_array(const char*& p, const char* end, std::vector<Level>& out, std::size_t max_levels) {
  out.clear();
  if (!open_levels<Spaces>(p, end)) return LevelScan::NotLevels;
  if (p < end && *p == ']') {
    ++p;
    return LevelScan::Ok;
  }
  for (;;) {
    Level level;
    bool parsed = false;
#if defined(__x86_64__)
    if constexpr (Vector) parsed = p < end && binance_level(p, end, level);
#endif
    if (!parsed && !scan_level<Spaces>(p, end, level)) return LevelScan::NotLevels;
    if (out.size() >= max_levels) return LevelScan::TooMany;
    out.push_back(level);
    if (const AfterLevel next = after_level<Spaces>(p, end); next != AfterLevel::Next) {
      return next == AfterLevel::End ? LevelScan::Ok : LevelScan::NotLevels;
    }
  }
}

#if defined(__x86_64__)
// flatten: binance_level can only be inlined into an AVX2 function, and scan_level_array is not
// one until it is inlined here; flatten inlines the whole call tree into this function.
__attribute__((target("avx2"), flatten)) LevelScan scan_levels_exact_avx2(const char*& p, const char* end,
                                                                            std::vector<Level>& out,
                                                                            std::size_t max_levels) {
  return scan_level_array<false, true>(p, end, out, max_levels);
}
#endif

// Presence bits for the fields of one payload.
enum : std::uint32_t {
  kE = 1u << 0,        // "e"
  kEventTime = 1u << 1,  // "E"
  kSym = 1u << 2,
  kFirstId = 1u << 3,  // "U"
  kFinalId = 1u << 4,  // "u"
  kLastUpdateId = 1u << 5,
  kBidPx = 1u << 6,
  kBidQty = 1u << 7,
  kAskPx = 1u << 8,
  kAskQty = 1u << 9,
  kAggId = 1u << 10,
  kTradeId = 1u << 11,
  kTradeTime = 1u << 12,
  kFirstTrade = 1u << 13,
  kLastTrade = 1u << 14,
  kPrice = 1u << 15,
  kQty = 1u << 16,
  kMaker = 1u << 17,
  kBids = 1u << 18,
  kAsks = 1u << 19,
  kKline = 1u << 20,
  kResult = 1u << 21,
  kId = 1u << 22,
  kCode = 1u << 23,
  kMsg = 1u << 24,
};

struct Fields {
  std::uint32_t have = 0;
  bool oversized = false;
  std::string_view e;
  std::int64_t event_time = 0;
  Symbol symbol;
  std::uint64_t first_id = 0;
  std::uint64_t final_id = 0;
  std::uint64_t last_update_id = 0;
  Price bid_px, ask_px, price;
  Qty bid_qty, ask_qty, qty;
  std::int64_t agg_id = 0, trade_id = 0, trade_time = 0, first_trade = 0, last_trade = 0;
  bool maker = false;
  std::int64_t code = 0;
  bool has(std::uint32_t bits) const noexcept { return (have & bits) == bits; }
};

// Kline fields ("k" object) presence.
enum : std::uint32_t {
  kKOpenTime = 1u << 0,
  kKCloseTime = 1u << 1,
  kKInterval = 1u << 2,
  kKOpen = 1u << 3,
  kKClose = 1u << 4,
  kKHigh = 1u << 5,
  kKLow = 1u << 6,
  kKVolume = 1u << 7,
  kKClosed = 1u << 8,
  kKRequired = kKOpenTime | kKCloseTime | kKInterval | kKOpen | kKClose | kKHigh | kKLow | kKVolume | kKClosed,
};

}  // namespace

struct StreamDecoder::Impl {
  explicit Impl(const Options& o) : options(o) {
    bids.reserve(o.reserve_levels_per_side);
    asks.reserve(o.reserve_levels_per_side);
    reserve_frame(o.reserve_frame_bytes);
    if (parser.allocate(o.reserve_frame_bytes)) {
      // Out of memory at start-up: the parser will retry on the first frame.
    }
  }

  template <bool Spaces>
  LevelScan scan_levels(const char*& p, const char* const end, std::vector<Level>& out) {
    return scan_level_array<Spaces, false>(p, end, out, options.max_levels_per_side);
  }

  // The exact form's level arrays: with AVX2 both numbers of a level are converted at once
  // (scan_levels_exact_avx2), otherwise scan_levels<false>. Same answers either way.
  LevelScan scan_exact_levels(const char*& p, const char* const end, std::vector<Level>& out) {
#if defined(__x86_64__)
    if (vector_decimals) return scan_levels_exact_avx2(p, end, out, options.max_levels_per_side);
#endif
    return scan_levels<false>(p, end, out);
  }

  // A bookTicker's prices and quantities two at a time with AVX2 (binance_ticker_prices); false
  // leaves `p` where it was, for the field-by-field scan.
  bool vector_ticker_prices(const char*& p, const char* const end, market::BookTicker& t) {
#if defined(__x86_64__)
    if (vector_decimals) return binance_ticker_prices(p, end, t);
#endif
    (void)p;
    (void)end;
    (void)t;
    return false;
  }

  // A level array field: simdjson's stage 1 has indexed the document and raw_json() skips the
  // array by its structure; its text is then scanned by scan_levels, which is several times
  // faster than iterating every pair through On-Demand.
  // Returns false only on a JSON syntax error (the frame is malformed); a well-formed array that
  // is not a level list leaves `ok` false, so the kind's required-field check fails.
  bool levels_of(od::value& v, std::vector<Level>& out, bool& ok) {
    ok = false;
    out.clear();
    od::array arr;
    if (v.get_array().get(arr)) return true;
    std::string_view text;
    if (arr.raw_json().get(text)) return false;
    const char* p = text.data();
    const char* const end = p + text.size();
    switch (scan_levels<true>(p, end, out)) {
      case LevelScan::Ok: break;
      case LevelScan::NotLevels: return true;
      case LevelScan::TooMany: fields.oversized = true; return true;
    }
    while (p < end && is_space(*p)) ++p;
    ok = p == end;
    return true;
  }

  // Binance's hot market events exactly as the exchange sends them (depthUpdate, bookTicker,
  // trade, aggTrade: compact JSON, the combined-stream envelope or none, keys in Binance's order),
  // decoded in one pass without simdjson. They are nearly every message of a live feed, and
  // simdjson would index each frame (for depth diffs every bracket, quote and comma of the level
  // arrays) before the fields are read. Every byte is held to that exact grammar, which accepts
  // only valid JSON. Anything else (whitespace, another key order or key set, an escape, a number
  // that is not a plain integer, too many levels, a stream that names another kind, trailing
  // bytes) returns false before `out` is touched, and the frame goes through simdjson, which gives
  // the same answer or the error.
  bool decode_exact(const char* p, const char* const end, std::string_view raw_stream, DecodedMessage& out) {
    std::string_view stream = raw_stream;
    const bool enveloped = literal(p, end, "{\"stream\":\"");
    if (enveloped && (!quoted(p, end, stream) || !literal(p, end, ",\"data\":"))) return false;
    ExactFields& x = exact;
    const char* const payload = p;  // a matched {"e":"<type>" puts the type at payload + 6
    MessageKind kind = MessageKind::None;
    std::size_t event_size = 0;  // the type's length; bookTicker has none
    // Each field: its key (with the comma before it) and value, exactly.
    const auto symbol = [&] {
      std::string_view text;
      return literal(p, end, ",\"s\":\"") && quoted(p, end, text) && plain_text(text) && symbol_of(text, x.symbol);
    };
    const auto integer = [&](const auto& key, std::int64_t& value) {  // get_int64's range, never a sign
      std::uint64_t v = 0;
      if (!literal(p, end, key) || !plain_uint(p, end, v) || v > static_cast<std::uint64_t>(INT64_MAX)) return false;
      value = static_cast<std::int64_t>(v);
      return true;
    };
    const auto update_id = [&](const auto& key, std::uint64_t& value) {
      return literal(p, end, key) && plain_uint(p, end, value);
    };
    const auto decimal = [&](const auto& key, auto& value) {
      std::int64_t raw = 0;
      if (!literal(p, end, key) || !scan_decimal_string(p, end, raw)) return false;
      value = std::remove_reference_t<decltype(value)>::from_raw(raw);
      return true;
    };
    const auto boolean = [&](const auto& key, bool& value) {
      if (!literal(p, end, key)) return false;
      value = literal(p, end, "true");
      return value || literal(p, end, "false");
    };
    bool ignored = false;  // "M": documented as "ignore"
    if (literal(p, end, "{\"e\":\"depthUpdate\"")) {
      kind = MessageKind::DepthDiff;
      event_size = 11;
      market::DepthDiff& d = x.depth;
      if (!integer(",\"E\":", d.event_time_ms) || !symbol() || !update_id(",\"U\":", d.first_update_id) ||
          !update_id(",\"u\":", d.final_update_id) || d.first_update_id > d.final_update_id) {
        return false;
      }
      if (!literal(p, end, ",\"b\":") || scan_exact_levels(p, end, bids) != LevelScan::Ok) return false;
      if (!literal(p, end, ",\"a\":") || scan_exact_levels(p, end, asks) != LevelScan::Ok) return false;
      d.bids = market::LevelSpan(bids);
      d.asks = market::LevelSpan(asks);
    } else if (literal(p, end, "{\"u\":")) {
      kind = MessageKind::BookTicker;
      market::BookTicker& t = x.ticker;
      if (!plain_uint(p, end, t.update_id) || !symbol()) return false;
      if (!vector_ticker_prices(p, end, t) &&
          (!decimal(",\"b\":", t.bid_price) || !decimal(",\"B\":", t.bid_qty) || !decimal(",\"a\":", t.ask_price) ||
           !decimal(",\"A\":", t.ask_qty))) {
        return false;
      }
    } else if (literal(p, end, "{\"e\":\"trade\"")) {
      kind = MessageKind::Trade;
      event_size = 5;
      market::Trade& t = x.trade;
      if (!integer(",\"E\":", t.event_time_ms) || !symbol() || !integer(",\"t\":", t.trade_id) ||
          !decimal(",\"p\":", t.price) || !decimal(",\"q\":", t.qty) || !integer(",\"T\":", t.trade_time_ms) ||
          !boolean(",\"m\":", t.buyer_is_maker) || !boolean(",\"M\":", ignored)) {
        return false;
      }
    } else if (literal(p, end, "{\"e\":\"aggTrade\"")) {
      kind = MessageKind::AggTrade;
      event_size = 8;
      market::AggTrade& t = x.agg_trade;
      if (!integer(",\"E\":", t.event_time_ms) || !symbol() || !integer(",\"a\":", t.agg_trade_id) ||
          !decimal(",\"p\":", t.price) || !decimal(",\"q\":", t.qty) || !integer(",\"f\":", t.first_trade_id) ||
          !integer(",\"l\":", t.last_trade_id) || !integer(",\"T\":", t.trade_time_ms) ||
          !boolean(",\"m\":", t.buyer_is_maker) || !boolean(",\"M\":", ignored)) {
        return false;
      }
    } else {
      return false;
    }
    if (!literal(p, end, "}") || (enveloped && !literal(p, end, "}")) || p != end) return false;
    if (enveloped && !plain_text(stream)) return false;
    // The stream must agree with the payload, as build() requires.
    if (!stream.empty()) {
      const MessageKind by_stream = enveloped ? stream_of(stream).kind : parse_stream_name(stream).kind;
      const bool agrees = by_stream == kind || by_stream == MessageKind::None ||
                          (kind != MessageKind::BookTicker && by_stream == MessageKind::Unsupported);
      if (!agrees) return false;
    }
    out.stream = stream;
    out.event_type = event_size == 0 ? std::string_view{} : std::string_view(payload + 6, event_size);
    out.symbol = x.symbol;
    switch (kind) {
      case MessageKind::DepthDiff:
        out.depth_diff = x.depth;
        out.depth_diff.symbol = x.symbol;
        break;
      case MessageKind::BookTicker:
        out.book_ticker = x.ticker;
        out.book_ticker.symbol = x.symbol;
        break;
      case MessageKind::Trade:
        out.trade = x.trade;
        out.trade.symbol = x.symbol;
        break;
      default:
        out.agg_trade = x.agg_trade;
        out.agg_trade.symbol = x.symbol;
        break;
    }
    out.kind = kind;
    return true;
  }

  bool kline_of(od::value& v, market::Kline& k) {
    kline_have = 0;
    od::object obj;
    if (v.get_object().get(obj)) return true;
    for (auto field_result : obj) {
      od::raw_json_string raw_key;
      if (field_result.key().get(raw_key)) return false;
      const std::string_view key = key_of(raw_key);
      od::value x;
      if (field_result.value().get(x)) return false;
      if (key.size() != 1) continue;
      switch (key[0]) {
        case 't': if (!x.get_int64().get(k.open_time_ms)) kline_have |= kKOpenTime; break;
        case 'T': if (!x.get_int64().get(k.close_time_ms)) kline_have |= kKCloseTime; break;
        case 'f': if (x.get_int64().get(k.first_trade_id)) k.first_trade_id = 0; break;
        case 'L': if (x.get_int64().get(k.last_trade_id)) k.last_trade_id = 0; break;
        case 'n': if (x.get_int64().get(k.trade_count)) k.trade_count = 0; break;
        case 'x': if (!x.get_bool().get(k.closed)) kline_have |= kKClosed; break;
        case 'o': if (fixed_of(x, k.open)) kline_have |= kKOpen; break;
        case 'c': if (fixed_of(x, k.close)) kline_have |= kKClose; break;
        case 'h': if (fixed_of(x, k.high)) kline_have |= kKHigh; break;
        case 'l': if (fixed_of(x, k.low)) kline_have |= kKLow; break;
        case 'v': if (fixed_of(x, k.base_volume)) kline_have |= kKVolume; break;
        case 'q': (void)fixed_of(x, k.quote_volume); break;
        case 'V': (void)fixed_of(x, k.taker_buy_base_volume); break;
        case 'Q': (void)fixed_of(x, k.taker_buy_quote_volume); break;
        case 'i': {
          std::string_view text;
          if (string_token(x, text) && !text.empty() && text.size() <= sizeof(k.interval.text)) {
            std::memcpy(k.interval.text, text.data(), text.size());
            k.interval.size = static_cast<std::uint8_t>(text.size());
            kline_have |= kKInterval;
          }
          break;
        }
        default: break;
      }
    }
    return true;
  }

  // Symbol::parse with a one-entry memo: consecutive messages mostly name the same symbol.
  bool symbol_of(std::string_view text, Symbol& out) {
    if (text.size() == last_symbol_len && text.size() <= sizeof(last_symbol_text) &&
        std::memcmp(text.data(), last_symbol_text, text.size()) == 0) {
      out = last_symbol;
      return true;
    }
    const auto parsed = Symbol::parse(text);
    if (!parsed) return false;
    out = *parsed;
    if (text.size() <= sizeof(last_symbol_text)) {
      std::memcpy(last_symbol_text, text.data(), text.size());
      last_symbol_len = text.size();
      last_symbol = out;
    }
    return true;
  }

  // parse_stream_name through a small direct-mapped memo (stream names repeat endlessly).
  const StreamName& stream_of(std::string_view text) {
    std::uint64_t h = text.size();
    for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
    StreamMemo& e = stream_memo[(h ^ (h >> 29)) & (kStreamMemo - 1)];
    if (e.len != text.size() || std::memcmp(e.text, text.data(), text.size()) != 0) {
      e.name = parse_stream_name(text);
      if (text.size() <= sizeof(e.text)) {
        std::memcpy(e.text, text.data(), text.size());
        e.len = text.size();
      } else {
        e.len = static_cast<std::size_t>(-1);  // too long to memoize: parsed every time
      }
    }
    return e.name;
  }

  bool id_of(od::value& v, ControlReply& c) {
    JsonKind kind;
    if (!json_kind_of(v, kind)) return false;
    c.has_id = true;
    if (kind == JsonKind::Number) {
      if (v.get_int64().get(c.id)) c.id = 0;
    } else if (kind == JsonKind::String) {
      c.id_is_string = true;
      (void)string_token(v, c.id_string);
    }
    return true;
  }

  // One payload field. Returns false only on a JSON syntax error.
  bool field(std::string_view key, od::value& v, DecodedMessage& out) {
    Fields& f = fields;
    if (key.size() == 1) {
      switch (key[0]) {
        case 'e':
          if (string_token(v, f.e)) f.have |= kE;
          return true;
        case 'E':
          if (!v.get_int64().get(f.event_time)) f.have |= kEventTime;
          return true;
        case 's': {
          std::string_view text;
          if (string_token(v, text) && symbol_of(text, f.symbol)) f.have |= kSym;
          return true;
        }
        case 'U':
          if (!v.get_uint64().get(f.first_id)) f.have |= kFirstId;
          return true;
        case 'u':
          if (!v.get_uint64().get(f.final_id)) f.have |= kFinalId;
          return true;
        case 'B':
          if (fixed_of(v, f.bid_qty)) f.have |= kBidQty;
          return true;
        case 'A':
          if (fixed_of(v, f.ask_qty)) f.have |= kAskQty;
          return true;
        case 'b':
        case 'a': {
          const bool bid = key[0] == 'b';
          JsonKind kind;
          if (!json_kind_of(v, kind)) return false;
          if (kind == JsonKind::Array) {
            bool ok = false;
            if (!levels_of(v, bid ? bids : asks, ok)) return false;
            if (ok) f.have |= bid ? kBids : kAsks;
          } else if (kind == JsonKind::String) {
            if (fixed_of(v, bid ? f.bid_px : f.ask_px)) f.have |= bid ? kBidPx : kAskPx;
          } else if (kind == JsonKind::Number && !bid) {
            if (!v.get_int64().get(f.agg_id)) f.have |= kAggId;
          }
          return true;
        }
        case 't':
          if (!v.get_int64().get(f.trade_id)) f.have |= kTradeId;
          return true;
        case 'T':
          if (!v.get_int64().get(f.trade_time)) f.have |= kTradeTime;
          return true;
        case 'f':
        case 'l': {
          JsonKind kind;
          if (!json_kind_of(v, kind)) return false;
          if (kind == JsonKind::Number) {
            if (!v.get_int64().get(key[0] == 'f' ? f.first_trade : f.last_trade)) {
              f.have |= key[0] == 'f' ? kFirstTrade : kLastTrade;
            }
          }
          return true;
        }
        case 'p':
          if (fixed_of(v, f.price)) f.have |= kPrice;
          return true;
        case 'q':
          if (fixed_of(v, f.qty)) f.have |= kQty;
          return true;
        case 'm':
          if (!v.get_bool().get(f.maker)) f.have |= kMaker;
          return true;
        case 'k': {
          JsonKind kind;
          if (!json_kind_of(v, kind)) return false;
          if (kind != JsonKind::Object) return true;
          if (!kline_of(v, out.kline)) return false;
          if ((kline_have & kKRequired) == kKRequired) f.have |= kKline;
          return true;
        }
        default:
          return true;
      }
    }
    if (key == "lastUpdateId") {
      if (!v.get_uint64().get(f.last_update_id)) f.have |= kLastUpdateId;
    } else if (key == "bids" || key == "asks") {
      const bool bid = key[0] == 'b';
      bool ok = false;
      if (!levels_of(v, bid ? bids : asks, ok)) return false;
      if (ok) f.have |= bid ? kBids : kAsks;
    } else if (key == "result") {
      ControlReply& c = out.control;
      if (!json_kind_of(v, c.result_kind)) return false;
      if (c.result_kind == JsonKind::Array) {
        od::array a;
        if (v.get_array().get(a) || a.raw_json().get(c.result_json)) return false;
      } else if (c.result_kind == JsonKind::Object) {
        od::object o;
        if (v.get_object().get(o) || o.raw_json().get(c.result_json)) return false;
      } else {
        std::string_view tok = v.raw_json_token();
        while (!tok.empty() && is_space(tok.back())) tok.remove_suffix(1);
        c.result_json = tok;
      }
      f.have |= kResult;
    } else if (key == "id") {
      if (!id_of(v, out.control)) return false;
      f.have |= kId;
    } else if (key == "code") {
      if (!v.get_int64().get(f.code)) f.have |= kCode;
    } else if (key == "msg") {
      if (!v.get_string().get(out.error.msg)) f.have |= kMsg;
    }
    return true;
  }

  DecodeStatus decode(const char* data, std::size_t len, std::size_t capacity, DecodedMessage& out,
                      std::string_view raw_stream, const Symbol* rest_symbol);
  DecodeStatus build(DecodedMessage& out, const StreamName& name, const Symbol* rest_symbol);

  Options options;
  // Binance-form decimals two at a time with AVX2: the option and the CPU, decided once.
  const bool vector_decimals = options.exact_form_vector_decimals && cpu_has_avx2();
  od::parser parser;
  // Padded copy for decode_frame(string_view) and snapshots. Allocated, never zero-filled: its
  // pages are only touched as far as frames reach (live frames arrive padded and skip it), so
  // the megabyte reserved for REST snapshots costs no memory until one comes.
  std::unique_ptr<char[]> frame;
  std::size_t frame_capacity = 0;  // bytes, padding included

  // A padded copy of `text` in `frame`; false if it cannot be allocated.
  bool copy_padded(std::string_view text) noexcept {
    if (frame_capacity < text.size() + simdjson::SIMDJSON_PADDING &&
        !reserve_frame(std::max(text.size(), 2 * frame_capacity))) {  // geometric: few regrowths
      return false;
    }
    std::memcpy(frame.get(), text.data(), text.size());
    std::memset(frame.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);  // as the receive buffer does
    return true;
  }
  bool reserve_frame(std::size_t bytes) noexcept {
    const std::size_t capacity = bytes + simdjson::SIMDJSON_PADDING;
    char* fresh = new (std::nothrow) char[capacity];  // default-initialized: not touched
    if (fresh == nullptr) return false;
    frame.reset(fresh);
    frame_capacity = capacity;
    return true;
  }
  std::vector<Level> bids;
  std::vector<Level> asks;
  Fields fields;
  // decode_exact's results until the whole frame has proven to be in the exact form.
  struct ExactFields {
    Symbol symbol;
    market::DepthDiff depth;
    market::BookTicker ticker;
    market::Trade trade;
    market::AggTrade agg_trade;
  } exact;
  std::uint32_t kline_have = 0;
  char last_symbol_text[Symbol::kMaxLength] = {};
  std::size_t last_symbol_len = static_cast<std::size_t>(-1);
  Symbol last_symbol;
  struct StreamMemo {
    char text[64] = {};
    std::size_t len = static_cast<std::size_t>(-1);
    StreamName name;
  };
  static constexpr std::size_t kStreamMemo = 256;
  std::vector<StreamMemo> stream_memo = std::vector<StreamMemo>(kStreamMemo);
};

DecodeStatus StreamDecoder::Impl::decode(const char* data, std::size_t len, std::size_t capacity,
                                         DecodedMessage& out, std::string_view raw_stream, const Symbol* rest_symbol) {
  out.kind = MessageKind::None;
  out.stream = raw_stream;
  out.event_type = {};
  out.symbol = Symbol{};
  out.control = ControlReply{};
  out.error = ErrorReply{};
  fields = Fields{};
  if (len > options.max_frame_bytes) return DecodeStatus::Oversized;
  if (capacity < len + simdjson::SIMDJSON_PADDING) return DecodeStatus::Malformed;  // caller broke the contract

  if (options.exact_form_fast_path && rest_symbol == nullptr && decode_exact(data, data + len, raw_stream, out)) {
    return DecodeStatus::Ok;
  }

  od::document doc;
  if (parser.iterate(simdjson::padded_string_view(data, len, capacity)).get(doc)) return DecodeStatus::Malformed;
  od::json_type top;
  if (doc.type().get(top)) return DecodeStatus::Malformed;
  if (top == od::json_type::array) {
    // A raw array stream (!miniTicker@arr and the like): valid, not decoded. Skipping it
    // structurally still rejects a truncated or unbalanced frame.
    od::array arr;
    std::string_view skipped;
    if (doc.get_array().get(arr) || arr.raw_json().get(skipped)) return DecodeStatus::Malformed;
    const char* location = nullptr;
    if (!doc.current_location().get(location)) return DecodeStatus::Malformed;
    out.kind = MessageKind::Unsupported;
    return DecodeStatus::Ok;
  }
  od::object obj;
  if (doc.get_object().get(obj)) return DecodeStatus::Malformed;

  StreamName name = raw_stream.empty() ? StreamName{} : parse_stream_name(raw_stream);
  if (raw_stream.empty()) name.kind = MessageKind::None;
  bool first = true;
  bool enveloped = false;
  bool have_data = false;
  bool array_data = false;
  // Fields are taken with key()/value() on the iteration result (no ondemand::field temporary).
  // Known cost (perf, GCC 12 -O2): simdjson's small iterator structs are copied through the stack
  // with 16-byte moves right after scalar stores, a store-forwarding stall per JSON field; no
  // compiler flag removed it, and it is still the largest single item in decode().
  for (auto field_result : obj) {
    od::raw_json_string raw_key;
    if (field_result.key().get(raw_key)) return DecodeStatus::Malformed;
    const std::string_view key = key_of(raw_key);
    od::value v;
    if (field_result.value().get(v)) return DecodeStatus::Malformed;
    if (first) {
      first = false;
      enveloped = key == "stream" || key == "data";
    }
    if (!enveloped) {
      if (!field(key, v, out)) return DecodeStatus::Malformed;
      continue;
    }
    if (key == "stream") {
      std::string_view stream;
      if (!string_token(v, stream)) return DecodeStatus::BadField;
      out.stream = stream;
      name = stream_of(stream);
    } else if (key == "data") {
      JsonKind data_kind;
      if (!json_kind_of(v, data_kind)) return DecodeStatus::Malformed;
      if (data_kind == JsonKind::Array) {  // {"stream":"!miniTicker@arr","data":[...]}: not decoded
        od::array arr;
        std::string_view skipped;
        if (v.get_array().get(arr) || arr.raw_json().get(skipped)) return DecodeStatus::Malformed;
        have_data = true;
        array_data = true;
        continue;
      }
      od::object inner;
      if (v.get_object().get(inner)) return DecodeStatus::BadField;
      for (auto inner_result : inner) {
        od::raw_json_string raw_inner_key;
        if (inner_result.key().get(raw_inner_key)) return DecodeStatus::Malformed;
        const std::string_view inner_key = key_of(raw_inner_key);
        od::value iv;
        if (inner_result.value().get(iv)) return DecodeStatus::Malformed;
        if (!field(inner_key, iv, out)) return DecodeStatus::Malformed;
      }
      have_data = true;
    }
  }
  if (first) return DecodeStatus::BadField;  // {}
  if (enveloped && !have_data) return DecodeStatus::BadField;
  // Anything after the top-level object (a second document, stray bytes) is malformed.
  const char* location = nullptr;
  if (!doc.current_location().get(location)) return DecodeStatus::Malformed;
  if (fields.oversized) return DecodeStatus::Oversized;
  if (array_data) {
    out.kind = MessageKind::Unsupported;
    return DecodeStatus::Ok;
  }
  return build(out, name, rest_symbol);
}

DecodeStatus StreamDecoder::Impl::build(DecodedMessage& out, const StreamName& name, const Symbol* rest_symbol) {
  const Fields& f = fields;
  MessageKind kind = name.kind;
  if (rest_symbol != nullptr) kind = f.has(kCode) ? MessageKind::ErrorReply : MessageKind::DepthSnapshot;
  if (f.has(kE)) {
    out.event_type = f.e;
    const MessageKind by_event = kind_of_event(f.e);
    if (kind != MessageKind::None && kind != MessageKind::Unsupported && by_event != kind) {
      return DecodeStatus::BadField;  // stream says one thing, payload another
    }
    kind = by_event;
  }
  if (kind == MessageKind::None) {
    if (f.has(kLastUpdateId)) {
      kind = MessageKind::DepthSnapshot;
    } else if (f.has(kFinalId)) {  // bookTicker has no "e"
      kind = MessageKind::BookTicker;
    } else if (f.has(kCode)) {
      kind = MessageKind::ErrorReply;
    } else if ((f.have & (kResult | kId)) != 0) {
      kind = MessageKind::ControlReply;
    } else {
      kind = MessageKind::Unsupported;
    }
  }
  Symbol symbol = f.has(kSym) ? f.symbol : (rest_symbol != nullptr ? *rest_symbol : name.symbol);
  out.symbol = symbol;
  switch (kind) {
    case MessageKind::BookTicker: {
      if (!f.has(kFinalId | kBidPx | kBidQty | kAskPx | kAskQty) || symbol.empty()) return DecodeStatus::BadField;
      out.book_ticker = market::BookTicker{symbol, f.final_id, f.bid_px, f.bid_qty, f.ask_px, f.ask_qty};
      break;
    }
    case MessageKind::DepthDiff: {
      if (!f.has(kFirstId | kFinalId | kBids | kAsks) || symbol.empty() || f.first_id > f.final_id) {
        return DecodeStatus::BadField;
      }
      out.depth_diff = market::DepthDiff{symbol, f.event_time, f.first_id, f.final_id, market::LevelSpan(bids),
                                         market::LevelSpan(asks)};
      break;
    }
    case MessageKind::DepthSnapshot: {
      if (!f.has(kLastUpdateId | kBids | kAsks)) return DecodeStatus::BadField;
      out.depth_snapshot = market::DepthSnapshot{symbol, f.last_update_id, market::LevelSpan(bids), market::LevelSpan(asks)};
      break;
    }
    case MessageKind::PartialDepth: {
      if (!f.has(kLastUpdateId | kBids | kAsks) || symbol.empty()) return DecodeStatus::BadField;
      out.partial_depth = market::PartialDepth{symbol, f.last_update_id, name.partial_depth, market::LevelSpan(bids),
                                               market::LevelSpan(asks)};
      break;
    }
    case MessageKind::Trade: {
      if (!f.has(kTradeId | kPrice | kQty | kTradeTime) || symbol.empty()) return DecodeStatus::BadField;
      out.trade = market::Trade{symbol, f.event_time, f.trade_time, f.trade_id, f.price, f.qty, f.maker};
      break;
    }
    case MessageKind::AggTrade: {
      if (!f.has(kAggId | kPrice | kQty | kFirstTrade | kLastTrade | kTradeTime) || symbol.empty()) {
        return DecodeStatus::BadField;
      }
      out.agg_trade = market::AggTrade{symbol,  f.event_time, f.trade_time, f.agg_id, f.first_trade,
                                       f.last_trade, f.price, f.qty,   f.maker};
      break;
    }
    case MessageKind::Kline: {
      if (!f.has(kKline) || symbol.empty()) return DecodeStatus::BadField;
      out.kline.symbol = symbol;
      out.kline.event_time_ms = f.event_time;
      break;
    }
    case MessageKind::ServerShutdown:
      out.server_shutdown = market::ServerShutdown{f.event_time};
      break;
    case MessageKind::ErrorReply:
      if (!f.has(kCode)) return DecodeStatus::BadField;
      out.error.code = f.code;
      out.error.has_id = out.control.has_id && !out.control.id_is_string;
      out.error.id = out.control.id;
      break;
    case MessageKind::ControlReply:
    case MessageKind::Unsupported:
    case MessageKind::None:
      break;
  }
  out.kind = kind;
  return DecodeStatus::Ok;
}

StreamDecoder::StreamDecoder() : StreamDecoder(Options{}) {}
StreamDecoder::StreamDecoder(Options options) : impl_(std::make_unique<Impl>(options)) {}
StreamDecoder::~StreamDecoder() = default;

DecodeStatus StreamDecoder::count(DecodeStatus status, DecodedMessage& out) noexcept {
  ++stats_.frames;
  switch (status) {
    case DecodeStatus::Ok:
      ++stats_.ok;
      if (out.kind == MessageKind::Unsupported) ++stats_.unsupported;
      break;
    case DecodeStatus::Oversized: ++stats_.oversized; break;
    case DecodeStatus::Malformed: ++stats_.malformed; break;
    case DecodeStatus::BadField: ++stats_.bad_field; break;
  }
  if (status != DecodeStatus::Ok) {
    // Nothing half-decoded may leak to a caller that ignores the status.
    out.kind = MessageKind::None;
  }
  return status;
}

DecodeStatus StreamDecoder::decode_frame_padded(const char* data, std::size_t len, std::size_t capacity,
                                                DecodedMessage& out, std::string_view raw_stream) {
  stats_.bytes += len;
  return count(impl_->decode(data, len, capacity, out, raw_stream, nullptr), out);
}

DecodeStatus StreamDecoder::decode_frame(std::string_view frame, DecodedMessage& out, std::string_view raw_stream) {
  stats_.bytes += frame.size();
  if (frame.size() > impl_->options.max_frame_bytes) return count(DecodeStatus::Oversized, out);
  if (!impl_->copy_padded(frame)) return count(DecodeStatus::Oversized, out);  // no memory for the copy
  return count(impl_->decode(impl_->frame.get(), frame.size(), impl_->frame_capacity, out, raw_stream, nullptr), out);
}

DecodeStatus StreamDecoder::decode_depth_snapshot(std::string_view json, const Symbol& symbol, DecodedMessage& out) {
  stats_.bytes += json.size();
  if (json.size() > impl_->options.max_frame_bytes) return count(DecodeStatus::Oversized, out);
  if (!impl_->copy_padded(json)) return count(DecodeStatus::Oversized, out);
  return count(impl_->decode(impl_->frame.get(), json.size(), impl_->frame_capacity, out, {}, &symbol), out);
}

}  // namespace tb::binance

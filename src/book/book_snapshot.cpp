#include "tradingbot/book/book_snapshot.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace tb::book {

namespace {

constexpr char kMagic[8] = {'T', 'B', 'B', 'O', 'O', 'K', 'S', 'N'};
// id, account, price, open, filled, filled quote, working time + type, stp, client length.
constexpr std::size_t kMinOrderBytes = 7 * 8 + 3;

std::uint64_t fnv1a64(std::span<const std::uint8_t> bytes) noexcept {
  std::uint64_t h = 0xCBF2'9CE4'8422'2325ull;
  for (const std::uint8_t b : bytes) {
    h ^= b;
    h *= 0x100'0000'01B3ull;
  }
  return h;
}

class Writer {
 public:
  explicit Writer(std::vector<std::uint8_t>& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void bytes(std::string_view s) { out_.insert(out_.end(), s.begin(), s.end()); }

 private:
  std::vector<std::uint8_t>& out_;
};

// Bounds-checked reader: once a read runs past the end, every later read yields zero and
// ok() is false, so parsing code can check once per record.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : in_(in) {}
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return in_.size() - pos_; }
  std::uint64_t uint(std::size_t width) noexcept {
    if (!ok_ || remaining() < width) {
      ok_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v |= static_cast<std::uint64_t>(in_[pos_ + i]) << (8 * i);
    pos_ += width;
    return v;
  }
  std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(uint(1)); }
  std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(uint(4)); }
  std::uint64_t u64() noexcept { return uint(8); }
  std::int64_t i64() noexcept { return static_cast<std::int64_t>(uint(8)); }
  std::string_view text(std::size_t n) noexcept {
    if (!ok_ || remaining() < n) {
      ok_ = false;
      return {};
    }
    const std::string_view s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

struct OrderRecord {
  OrderId id;
  AccountId account;
  std::int64_t price;
  std::int64_t open;
  std::int64_t filled;
  std::int64_t filled_quote;
  Nanos working_time;
  Side side;
  OrderType type;
  StpMode stp;
  std::string_view client;
};

SnapshotResult fail(SnapshotStatus status, std::string_view detail) { return SnapshotResult{status, detail}; }

}  // namespace

std::string_view to_string(SnapshotStatus status) noexcept {
  switch (status) {
    case SnapshotStatus::Ok: return "ok";
    case SnapshotStatus::Truncated: return "truncated";
    case SnapshotStatus::BadMagic: return "bad_magic";
    case SnapshotStatus::UnsupportedVersion: return "unsupported_version";
    case SnapshotStatus::BadLength: return "bad_length";
    case SnapshotStatus::ChecksumMismatch: return "checksum_mismatch";
    case SnapshotStatus::Malformed: return "malformed";
  }
  return "unknown";
}

std::vector<std::uint8_t> BookSnapshot::save(const MatchingEngine& engine) {
  std::vector<std::uint8_t> out;
  save(engine, out);
  return out;
}

void BookSnapshot::save(const MatchingEngine& engine, std::vector<std::uint8_t>& out) {
  out.clear();
  out.resize(kHeaderSize);
  Writer w(out);
  const InstrumentRules& r = engine.rules_;
  w.u8(static_cast<std::uint8_t>(r.symbol.size()));
  w.bytes(r.symbol.view());
  for (const std::int64_t v : {r.tick_size.raw(), r.min_price.raw(), r.max_price.raw(), r.step_size.raw(),
                               r.min_qty.raw(), r.max_qty.raw(), r.min_notional.raw(), r.band_multiplier_up,
                               r.band_multiplier_down}) {
    w.i64(v);
  }
  w.i64(engine.reference_price_.raw());
  w.u64(engine.next_order_id_);
  w.u64(engine.next_trade_id_);
  w.u64(engine.update_id_);
  std::uint64_t counts[2] = {0, 0};
  for (int s = 0; s < 2; ++s) {
    for (const auto& ref : engine.sides_[s]) counts[s] += engine.levels_[ref.level].count;
  }
  w.u64(counts[0]);
  w.u64(counts[1]);
  for (const Side side : {Side::Buy, Side::Sell}) {
    const auto& refs = engine.sides_[MatchingEngine::index(side)];
    for (std::size_t i = refs.size(); i-- > 0;) {
      for (std::uint32_t o = engine.levels_[refs[i].level].head; o != MatchingEngine::kNil;
           o = engine.orders_[o].next) {
        const MatchingEngine::OrderSlot& s = engine.orders_[o];
        w.u64(s.id);
        w.u64(s.account);
        w.i64(s.price);
        w.i64(s.open);
        w.i64(s.filled);
        w.i64(s.filled_quote);
        w.i64(s.working_time);
        w.u8(static_cast<std::uint8_t>(s.type));
        w.u8(static_cast<std::uint8_t>(s.stp));
        w.u8(s.client_len);
        w.bytes(s.client_id());
      }
    }
  }
  const std::uint64_t payload = out.size() - kHeaderSize;
  const std::uint64_t checksum =
      fnv1a64(std::span<const std::uint8_t>(out).subspan(kHeaderSize));
  std::vector<std::uint8_t> header;
  header.reserve(kHeaderSize);
  Writer h(header);
  h.bytes(std::string_view(kMagic, sizeof kMagic));
  h.u32(kVersion);
  h.u32(static_cast<std::uint32_t>(kHeaderSize));
  h.u64(payload);
  h.u64(checksum);
  std::memcpy(out.data(), header.data(), kHeaderSize);
}

SnapshotResult BookSnapshot::restore(std::span<const std::uint8_t> bytes, MatchingEngine& engine) {
  if (bytes.size() < kHeaderSize) return fail(SnapshotStatus::Truncated, "shorter than the header");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return fail(SnapshotStatus::BadMagic, "bad magic");
  Reader head(bytes.subspan(sizeof kMagic, kHeaderSize - sizeof kMagic));
  const std::uint32_t version = head.u32();
  const std::uint32_t header_size = head.u32();
  const std::uint64_t payload_size = head.u64();
  const std::uint64_t checksum = head.u64();
  if (version != kVersion) return fail(SnapshotStatus::UnsupportedVersion, "unknown format version");
  if (header_size != kHeaderSize) return fail(SnapshotStatus::Malformed, "unexpected header size");
  const std::span<const std::uint8_t> payload = bytes.subspan(kHeaderSize);
  if (payload.size() < payload_size) return fail(SnapshotStatus::Truncated, "payload shorter than declared");
  if (payload.size() > payload_size) return fail(SnapshotStatus::BadLength, "bytes after the declared payload");
  if (fnv1a64(payload) != checksum) return fail(SnapshotStatus::ChecksumMismatch, "payload checksum differs");

  Reader in(payload);
  const std::string_view symbol_text = in.text(in.u8());
  InstrumentRules rules;
  if (!symbol_text.empty()) {
    const auto symbol = Symbol::parse(symbol_text);
    if (!symbol || symbol->view() != symbol_text) return fail(SnapshotStatus::Malformed, "invalid symbol");
    rules.symbol = *symbol;
  }
  std::int64_t raw[9];
  for (std::int64_t& v : raw) {
    v = in.i64();
    if (v < 0) return fail(SnapshotStatus::Malformed, "negative instrument rule");
  }
  rules.tick_size = Price::from_raw(raw[0]);
  rules.min_price = Price::from_raw(raw[1]);
  rules.max_price = Price::from_raw(raw[2]);
  rules.step_size = Qty::from_raw(raw[3]);
  rules.min_qty = Qty::from_raw(raw[4]);
  rules.max_qty = Qty::from_raw(raw[5]);
  rules.min_notional = Money::from_raw(raw[6]);
  rules.band_multiplier_up = raw[7];
  rules.band_multiplier_down = raw[8];
  const std::int64_t reference = in.i64();
  const std::uint64_t next_order_id = in.u64();
  const std::uint64_t next_trade_id = in.u64();
  const std::uint64_t update_id = in.u64();
  const std::uint64_t bid_count = in.u64();
  const std::uint64_t ask_count = in.u64();
  if (!in.ok()) return fail(SnapshotStatus::Malformed, "payload ends inside the book header");
  if (reference < 0) return fail(SnapshotStatus::Malformed, "negative reference price");
  if (next_order_id == 0 || next_trade_id == 0) return fail(SnapshotStatus::Malformed, "id counter is zero");
  // Bound the counts by the bytes present before reserving anything.
  const std::uint64_t max_orders = in.remaining() / kMinOrderBytes;
  if (bid_count > max_orders || ask_count > max_orders || bid_count + ask_count > max_orders) {
    return fail(SnapshotStatus::Malformed, "order count exceeds payload");
  }

  std::vector<OrderRecord> records;
  records.reserve(static_cast<std::size_t>(bid_count + ask_count));
  std::int64_t level_qty = 0;
  for (std::uint64_t i = 0; i < bid_count + ask_count; ++i) {
    OrderRecord r{};
    r.side = i < bid_count ? Side::Buy : Side::Sell;
    r.id = in.u64();
    r.account = in.u64();
    r.price = in.i64();
    r.open = in.i64();
    r.filled = in.i64();
    r.filled_quote = in.i64();
    r.working_time = in.i64();
    const std::uint8_t type = in.u8();
    const std::uint8_t stp = in.u8();
    r.client = in.text(in.u8());
    if (!in.ok()) return fail(SnapshotStatus::Malformed, "payload ends inside an order");
    if (r.id == 0 || r.id >= next_order_id) return fail(SnapshotStatus::Malformed, "order id outside the id counter");
    if (r.price <= 0 || r.open <= 0 || r.filled < 0 || r.filled_quote < 0) {
      return fail(SnapshotStatus::Malformed, "order price or quantity out of range");
    }
    if (r.open > INT64_MAX - r.filled) return fail(SnapshotStatus::Malformed, "order quantity overflows");
    if (type != static_cast<std::uint8_t>(OrderType::Limit) && type != static_cast<std::uint8_t>(OrderType::LimitMaker)) {
      return fail(SnapshotStatus::Malformed, "resting order type must be LIMIT or LIMIT_MAKER");
    }
    if (stp > static_cast<std::uint8_t>(StpMode::ExpireBoth)) return fail(SnapshotStatus::Malformed, "bad STP mode");
    r.type = static_cast<OrderType>(type);
    r.stp = static_cast<StpMode>(stp);
    if (!r.client.empty() && !valid_client_order_id(r.client)) {
      return fail(SnapshotStatus::Malformed, "invalid client order id");
    }
    if (!records.empty() && records.back().side == r.side) {
      const std::int64_t prev = records.back().price;
      if (r.side == Side::Buy ? r.price > prev : r.price < prev) {
        return fail(SnapshotStatus::Malformed, "orders not in price priority");
      }
      if (prev != r.price) level_qty = 0;
    } else {
      level_qty = 0;
    }
    if (__builtin_add_overflow(level_qty, r.open, &level_qty)) {
      return fail(SnapshotStatus::Malformed, "level quantity overflows");
    }
    records.push_back(r);
  }
  if (in.remaining() != 0) return fail(SnapshotStatus::Malformed, "bytes after the last order");
  if (bid_count > 0 && ask_count > 0) {
    const std::int64_t best_bid = records[0].price;
    const std::int64_t best_ask = records[static_cast<std::size_t>(bid_count)].price;
    if (best_bid >= best_ask) return fail(SnapshotStatus::Malformed, "crossed book");
  }
  {
    std::vector<OrderId> ids;
    ids.reserve(records.size());
    std::vector<std::pair<AccountId, std::string_view>> clients;
    for (const OrderRecord& r : records) {
      ids.push_back(r.id);
      if (!r.client.empty()) clients.emplace_back(r.account, r.client);
    }
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) return fail(SnapshotStatus::Malformed, "duplicate order id");
    std::sort(clients.begin(), clients.end());
    if (std::adjacent_find(clients.begin(), clients.end()) != clients.end()) {
      return fail(SnapshotStatus::Malformed, "duplicate client order id");
    }
  }

  // Everything checked: replace the engine's state.
  engine.clear_book();
  engine.rules_ = rules;
  engine.reference_price_ = Price::from_raw(reference);
  engine.next_order_id_ = next_order_id;
  engine.next_trade_id_ = next_trade_id;
  engine.update_id_ = update_id;
  for (const OrderRecord& r : records) {
    const std::uint32_t slot = engine.alloc_order();
    MatchingEngine::OrderSlot& o = engine.orders_[slot];
    o.id = r.id;
    o.account = r.account;
    o.price = r.price;
    o.open = r.open;
    o.filled = r.filled;
    o.filled_quote = r.filled_quote;
    o.working_time = r.working_time;
    o.side = r.side;
    o.type = r.type;
    o.tif = TimeInForce::Gtc;
    o.stp = r.stp;
    o.client_len = static_cast<std::uint8_t>(r.client.size());
    if (o.client_len != 0) std::memcpy(o.client, r.client.data(), o.client_len);
    engine.index_order(slot);
    engine.link_back(slot);
  }
  return SnapshotResult{};
}

}  // namespace tb::book

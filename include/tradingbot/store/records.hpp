// The store's own schema in C++: what the trading thread hands to the store thread to persist.
// Plain, trivially copyable structs with fixed-size fields, so a record fits a preallocated ring
// slot and a journal frame without allocating. These types are deliberately independent of the
// oms (the order manager converts its state into them), so the store's on-disk and in-database
// format changes only when this file does.
// Value types: any thread may build, copy and read them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb::store {

// Up to N bytes of text stored inline with a NUL terminator (c_str() for libpq).
template <std::size_t N>
struct FixedString {
  static_assert(N > 0 && N < 256);
  static constexpr std::size_t kCapacity = N;

  std::array<char, N + 1> chars{};
  std::uint8_t length = 0;

  FixedString() noexcept = default;
  FixedString(std::string_view text) noexcept { assign(text); }  // NOLINT: implicit on purpose
  FixedString& operator=(std::string_view text) noexcept {
    assign(text);
    return *this;
  }

  // Copies at most N bytes; returns false (and keeps the first N bytes) when `text` is longer.
  bool assign(std::string_view text) noexcept {
    const std::size_t n = text.size() < N ? text.size() : N;
    std::memcpy(chars.data(), text.data(), n);
    chars[n] = '\0';
    length = static_cast<std::uint8_t>(n);
    return n == text.size();
  }
  [[nodiscard]] std::string_view view() const noexcept { return {chars.data(), length}; }
  [[nodiscard]] const char* c_str() const noexcept { return chars.data(); }
  [[nodiscard]] bool empty() const noexcept { return length == 0; }
  friend bool operator==(const FixedString& a, const FixedString& b) noexcept { return a.view() == b.view(); }
};

using ClientOrderId = FixedString<36>;  // Binance newClientOrderId: 1..36 chars
using AssetName = FixedString<15>;      // "USDT", "BTC"
using Reason = FixedString<63>;         // reject/cancel reason, free text, truncated
using RunId = FixedString<36>;          // one per daemon start (UUID text)

enum class OrderType : std::uint8_t { Limit, Market, StopLoss, StopLossLimit, TakeProfit, TakeProfitLimit, LimitMaker };
enum class TimeInForce : std::uint8_t { None, Gtc, Ioc, Fok };
// Binance order states plus PendingNew (sent, not yet acknowledged) for locally created orders.
enum class OrderStatus : std::uint8_t {
  PendingNew, New, PartiallyFilled, Filled, PendingCancel, Canceled, Rejected, Expired, ExpiredInMatch
};

[[nodiscard]] constexpr bool is_terminal(OrderStatus s) noexcept {
  return s == OrderStatus::Filled || s == OrderStatus::Canceled || s == OrderStatus::Rejected ||
         s == OrderStatus::Expired || s == OrderStatus::ExpiredInMatch;
}

// Binance spellings ("LIMIT", "GTC", "PARTIALLY_FILLED"), as stored in the database.
std::string_view to_string(OrderType t) noexcept;
std::string_view to_string(TimeInForce t) noexcept;
std::string_view to_string(OrderStatus s) noexcept;
std::optional<OrderType> parse_order_type(std::string_view text) noexcept;
std::optional<TimeInForce> parse_time_in_force(std::string_view text) noexcept;
std::optional<OrderStatus> parse_order_status(std::string_view text) noexcept;

// One row per order state transition (the orders table keeps the whole history).
struct OrderRecord {
  ClientOrderId client_order_id;
  std::int64_t exchange_order_id = 0;  // 0 until the exchange acknowledged the order
  Symbol symbol;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::Gtc;
  OrderStatus status = OrderStatus::PendingNew;
  Price price;             // 0 for market orders
  Qty qty;                 // original quantity
  Qty filled_qty;          // cumulative
  Money cum_quote;         // cumulative quote quantity
  Reason reason;           // why (reject/cancel/expire), empty otherwise
  Nanos event_time_ns = 0; // exchange event time, or local wall time for local transitions
};

// One executed trade of ours. Binance trade ids are unique per symbol: (symbol, trade_id) is
// the idempotency key, so a fill seen twice (stream + REST reconciliation) is stored once.
struct FillRecord {
  std::int64_t trade_id = 0;
  Symbol symbol;
  ClientOrderId client_order_id;
  std::int64_t exchange_order_id = 0;
  Side side = Side::Buy;
  bool is_maker = false;
  Price price;
  Qty qty;
  Money quote_qty;
  Qty commission;          // in commission_asset units
  AssetName commission_asset;
  Nanos trade_time_ns = 0;
};

// Current position per symbol after a change (the table keeps the latest per symbol).
struct PositionRecord {
  Symbol symbol;
  Qty qty;                 // signed base quantity
  Price avg_entry_price;
  Money realized_pnl;      // cumulative, quote currency
  Nanos update_time_ns = 0;
};

// Exchange account balance per asset after a change (latest per asset is kept).
struct BalanceRecord {
  AssetName asset;
  Qty free;
  Qty locked;
  Nanos update_time_ns = 0;
};

// Periodic account valuation (time series).
struct EquitySample {
  AssetName quote_asset;   // valuation currency, e.g. "USDT"
  Money equity;
  Money realized_pnl;
  Money unrealized_pnl;
  Nanos sample_time_ns = 0;
};

// A closed bar from the kline stream (market data: partitioned by month, retention applies).
struct KlineRecord {
  Symbol symbol;
  FixedString<3> interval;  // "1m", "1h", "1M" (Binance spelling, case sensitive)
  Nanos open_time_ns = 0;
  Nanos close_time_ns = 0;
  Price open, high, low, close;
  Qty volume;
  Money quote_volume;
  std::int64_t trades = 0;
};

enum class RunEvent : std::uint8_t { Start, Stop };

// Daemon start and stop: the runs table has one row per run_id, stopped_at set by Stop.
struct RunRecord {
  RunId run_id;
  RunEvent event = RunEvent::Start;
  FixedString<31> version;
  FixedString<64> config_hash;  // e.g. SHA-256 hex of the config file
  std::int32_t pid = 0;
  Reason detail;                // stop reason / exit status text
  Nanos time_ns = 0;
};

// The tagged record: index() is the record kind. Trivially copyable, no heap.
using StoreRecord =
    std::variant<OrderRecord, FillRecord, PositionRecord, BalanceRecord, EquitySample, KlineRecord, RunRecord>;

enum class RecordKind : std::uint8_t { Order, Fill, Position, Balance, Equity, Kline, Run };
inline constexpr std::size_t kRecordKinds = std::variant_size_v<StoreRecord>;

[[nodiscard]] inline RecordKind kind_of(const StoreRecord& r) noexcept { return static_cast<RecordKind>(r.index()); }
std::string_view to_string(RecordKind kind) noexcept;

// Records that must never be dropped (orders, fills, positions, balances, runs) versus samples
// that can be regenerated (klines from REST, equity at the next tick): see RecordQueue.
[[nodiscard]] constexpr bool is_sample(RecordKind kind) noexcept {
  return kind == RecordKind::Equity || kind == RecordKind::Kline;
}

static_assert(std::is_trivially_copyable_v<StoreRecord>, "records travel by memcpy through ring and journal");
static_assert(sizeof(StoreRecord) <= 256, "keep ring slots small");

// A record with the journal sequence number the store thread gave it (1, 2, 3, ... per journal).
struct SequencedRecord {
  std::uint64_t seq = 0;
  StoreRecord record;
};

}  // namespace tb::store

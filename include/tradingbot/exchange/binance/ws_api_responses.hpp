// Decoding of what arrives on the WebSocket API connection (reference sections 9 and 10):
// responses {"id","status","result"|"error","rateLimits"} and user-data events
// {"subscriptionId":N,"event":{...}}: executionReport, outboundAccountPosition, balanceUpdate,
// eventStreamTerminated (plus listStatus/externalLockUpdate/serverShutdown recognised by type).
// Event keys are matched case-sensitively: `c` (clientOrderId) vs `C` (original clientOrderId),
// `p` vs `P`, `q` vs `Q`, `l` vs `L` ...
// Decoding reuses the caller's JsonParser and WsApiFrame (vectors keep capacity), returns a
// ParseStatus, never throws. Called on the trading thread that owns the WS API connection.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tradingbot/exchange/binance/rate_limits.hpp"
#include "tradingbot/exchange/binance/rest_responses.hpp"

namespace tb::binance {

struct WsApiResponse {
  enum class ResultKind : std::uint8_t { None, Order, Orders, ServerTime, Subscription, Other };

  InlineString<64> id;  // string ids verbatim; numeric ids as their decimal text
  bool id_is_number = false;
  int status = 0;  // HTTP-like; 5xx = unknown outcome
  bool has_error = false;
  ApiError error;
  std::optional<std::int64_t> retry_after_epoch_ms;  // error.data.retryAfter on 429/418
  std::array<RateLimitUsage, 8> rate_limits{};
  std::size_t rate_limit_count = 0;

  ResultKind result_kind = ResultKind::None;
  OrderResponse order;                 // order.place / order.cancel / order.status
  std::vector<OrderResponse> orders;   // openOrders.status
  std::int64_t server_time_ms = 0;     // time
  std::int64_t subscription_id = -1;   // userDataStream.subscribe(.signature)

  [[nodiscard]] bool ok() const noexcept { return status == 200 && !has_error; }
};

enum class UserEventType : std::uint8_t {
  ExecutionReport,
  OutboundAccountPosition,
  BalanceUpdate,
  EventStreamTerminated,
  ListStatus,
  ExternalLockUpdate,
  ServerShutdown,
  Unknown,
};

struct ExecutionReport {
  std::int64_t event_time = 0;           // E
  Symbol symbol;                         // s
  ClientOrderId client_order_id;         // c
  Side side = Side::Buy;                 // S
  OrderType type = OrderType::Unknown;   // o
  TimeInForce time_in_force = TimeInForce::None;  // f
  Qty quantity;                          // q
  Price price;                           // p
  Price stop_price;                      // P
  Qty iceberg_qty;                       // F
  std::int64_t order_list_id = -1;       // g
  ClientOrderId orig_client_order_id;    // C ("" unless a cancel)
  ExecutionType execution_type = ExecutionType::Unknown;  // x
  OrderStatus status = OrderStatus::Unknown;              // X
  InlineString<48> reject_reason;        // r
  std::int64_t order_id = 0;             // i
  Qty last_qty;                          // l
  Qty cumulative_qty;                    // z
  Price last_price;                      // L
  Money commission;                      // n
  AssetName commission_asset;            // N (null -> empty)
  std::int64_t transaction_time = 0;     // T
  std::int64_t trade_id = -1;            // t
  std::int64_t execution_id = 0;         // I
  bool on_book = false;                  // w
  bool maker = false;                    // m
  std::int64_t creation_time = 0;        // O
  Money cumulative_quote_qty;            // Z
  Money last_quote_qty;                  // Y
  Money quote_order_qty;                 // Q
  std::int64_t working_time = 0;         // W
  InlineString<48> expiry_reason;        // eR (when present)
};

struct AccountPosition {
  std::int64_t last_update_time = 0;  // u
  std::vector<AssetBalance> balances;  // B[] {a, f, l}
};

struct BalanceUpdate {
  AssetName asset;  // a
  Qty delta;        // d (signed)
  std::int64_t clear_time = 0;  // T
};

struct UserDataEvent {
  UserEventType type = UserEventType::Unknown;
  std::int64_t subscription_id = -1;  // -1 when the frame had none (serverShutdown)
  std::int64_t event_time = 0;        // E
  ExecutionReport execution;          // type == ExecutionReport
  AccountPosition position;           // type == OutboundAccountPosition
  BalanceUpdate balance;              // type == BalanceUpdate
};

struct WsApiFrame {
  enum class Kind : std::uint8_t { Response, Event };
  Kind kind = Kind::Response;
  WsApiResponse response;
  UserDataEvent event;
};

// Any text frame of the WS API connection: a response (has "id") or an event (has "event").
[[nodiscard]] ParseStatus parse_ws_api_frame(JsonParser& parser, std::string_view frame, WsApiFrame& out);
// A user-data event, with or without the {"subscriptionId","event"} envelope.
[[nodiscard]] ParseStatus parse_user_data_event(JsonParser& parser, std::string_view frame, UserDataEvent& out);

}  // namespace tb::binance

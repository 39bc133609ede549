// Typed decoding of Binance REST responses (reference sections 4, 7, 11): the error body
// {"code","msg"} with the key codes named, order responses (ACK/RESULT/FULL incl. fills; also
// DELETE order and GET order), openOrders arrays, account balances, /time, ticker/bookTicker and
// ticker/price. Decimals land in fixed-point without a double; ids and names are stored inline.
// Decoders reuse the caller's JsonParser and output structs (vectors keep their capacity), return
// a ParseStatus and never throw. One JsonParser per thread; call from the thread that owns it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/exchange/binance/json_parser.hpp"
#include "tradingbot/exchange/binance/types.hpp"

namespace tb::binance {

enum class ParseStatus : std::uint8_t {
  Ok,
  InvalidJson,
  WrongShape,    // valid JSON, not the expected object/array
  MissingField,  // a required field is absent or has the wrong type
  BadNumber,     // a decimal string that is not an exact 1e-8 value
  ApiError,      // the body is an error object {"code","msg"}: see the ApiError out-param
};
[[nodiscard]] std::string_view to_string(ParseStatus status) noexcept;

// Error codes the bot reacts to (reference section 11).
namespace error_code {
inline constexpr std::int32_t kUnknown = -1000;
inline constexpr std::int32_t kTooManyRequests = -1003;
inline constexpr std::int32_t kTimeout = -1007;  // outcome unknown
inline constexpr std::int32_t kFilterFailure = -1013;
inline constexpr std::int32_t kTooManyOrders = -1015;
inline constexpr std::int32_t kInvalidTimestamp = -1021;
inline constexpr std::int32_t kInvalidSignature = -1022;
inline constexpr std::int32_t kIllegalChars = -1100;
inline constexpr std::int32_t kMandatoryParamMissing = -1102;
inline constexpr std::int32_t kBadPrecision = -1111;
inline constexpr std::int32_t kBadSymbol = -1121;
inline constexpr std::int32_t kSymbolStatusMismatch = -1220;
inline constexpr std::int32_t kNewOrderRejected = -2010;
inline constexpr std::int32_t kCancelRejected = -2011;
inline constexpr std::int32_t kNoSuchOrder = -2013;
inline constexpr std::int32_t kRejectedMbxKey = -2015;
inline constexpr std::int32_t kCancelReplacePartial = -2021;
inline constexpr std::int32_t kCancelReplaceFailed = -2022;
inline constexpr std::int32_t kOrderArchived = -2026;
inline constexpr std::int32_t kSubscriptionActive = -2035;
inline constexpr std::int32_t kSubscriptionInactive = -2036;
inline constexpr std::int32_t kClientOrderIdMismatch = -2039;
inline constexpr std::int32_t kNoReferencePrice = -2043;
}  // namespace error_code

// "INVALID_TIMESTAMP" etc. for the codes above, "" for others.
[[nodiscard]] std::string_view error_name(std::int32_t code) noexcept;

struct ApiError {
  std::int32_t code = 0;
  std::string msg;  // the error path may allocate
  [[nodiscard]] std::string_view name() const noexcept { return error_name(code); }
  // -1007, or an HTTP 5xx: the order may or may not have executed; query before retrying.
  [[nodiscard]] bool outcome_unknown(int http_status = 0) const noexcept {
    return code == error_code::kTimeout || (http_status >= 500 && http_status <= 599);
  }
};

// Decodes {"code":..,"msg":..}. Ok when it is one.
[[nodiscard]] ParseStatus parse_api_error(JsonParser& parser, std::string_view body, ApiError& out);

struct Fill {
  Price price;
  Qty qty;
  Money commission;
  AssetName commission_asset;
  std::int64_t trade_id = 0;
};

// One order as REST (and the WS API) reports it. Fields a response does not carry stay zero.
struct OrderResponse {
  OrderResponseType kind = OrderResponseType::Ack;  // Result when status/price fields are present, Full with fills
  Symbol symbol;
  std::int64_t order_id = 0;
  std::int64_t order_list_id = -1;
  ClientOrderId client_order_id;
  ClientOrderId orig_client_order_id;  // cancels
  std::int64_t transact_time = 0;
  Price price;
  Qty orig_qty;
  Qty executed_qty;
  Money cummulative_quote_qty;  // negative for some old orders = unavailable
  Money orig_quote_order_qty;
  OrderStatus status = OrderStatus::Unknown;
  TimeInForce time_in_force = TimeInForce::None;
  OrderType type = OrderType::Unknown;
  Side side = Side::Buy;
  Price stop_price;
  Qty iceberg_qty;
  std::int64_t time = 0;  // GET order
  std::int64_t update_time = 0;
  std::int64_t working_time = 0;
  bool is_working = false;
  std::vector<Fill> fills;  // FULL
};

// POST /api/v3/order (ACK, RESULT, FULL), DELETE /api/v3/order, GET /api/v3/order.
[[nodiscard]] ParseStatus parse_order(JsonParser& parser, std::string_view body, OrderResponse& out, ApiError* error = nullptr);
// GET /api/v3/openOrders and DELETE /api/v3/openOrders (order-list entries contribute their
// orderReports).
[[nodiscard]] ParseStatus parse_orders(JsonParser& parser, std::string_view body, std::vector<OrderResponse>& out,
                                       ApiError* error = nullptr);

struct AssetBalance {
  AssetName asset;
  Qty free;
  Qty locked;
};

struct AccountInfo {
  std::int64_t maker_rate = 0;  // commissionRates, fixed-point 1e-8 ("0.00150000" -> 150000)
  std::int64_t taker_rate = 0;
  bool can_trade = false;
  std::int64_t update_time = 0;
  std::vector<AssetBalance> balances;
};

// GET /api/v3/account.
[[nodiscard]] ParseStatus parse_account(JsonParser& parser, std::string_view body, AccountInfo& out,
                                        ApiError* error = nullptr);
// One of the account's trades (GET /api/v3/myTrades).
struct AccountTrade {
  Symbol symbol;
  std::int64_t trade_id = 0;  // id
  std::int64_t order_id = 0;
  Price price;
  Qty qty;
  Money quote_qty;
  Money commission;
  AssetName commission_asset;
  std::int64_t time = 0;
  bool is_buyer = false;
  bool is_maker = false;
};

// GET /api/v3/myTrades.
[[nodiscard]] ParseStatus parse_my_trades(JsonParser& parser, std::string_view body, std::vector<AccountTrade>& out,
                                          ApiError* error = nullptr);
// GET /api/v3/time.
[[nodiscard]] ParseStatus parse_server_time(JsonParser& parser, std::string_view body, std::int64_t& server_time_ms,
                                            ApiError* error = nullptr);

struct BookTicker {
  Symbol symbol;
  Price bid_price;
  Qty bid_qty;
  Price ask_price;
  Qty ask_qty;
};
struct TickerPrice {
  Symbol symbol;
  Price price;
};

// GET /api/v3/ticker/bookTicker and ticker/price: one object (?symbol=) or an array; both
// shapes are accepted and `out` receives every entry.
[[nodiscard]] ParseStatus parse_book_tickers(JsonParser& parser, std::string_view body, std::vector<BookTicker>& out,
                                             ApiError* error = nullptr);
[[nodiscard]] ParseStatus parse_ticker_prices(JsonParser& parser, std::string_view body,
                                              std::vector<TickerPrice>& out, ApiError* error = nullptr);

}  // namespace tb::binance

// Internal: decoders from simdjson DOM objects, shared by the REST and WS API parsers.
#pragma once

#include "json_util.hpp"
#include "tradingbot/exchange/binance/rest_responses.hpp"

namespace tb::binance::detail {

ParseStatus decode_order(const simdjson::dom::object& o, OrderResponse& out);
ParseStatus decode_api_error(const simdjson::dom::object& o, ApiError& out);
ParseStatus decode_balance_array(const simdjson::dom::array& a, std::vector<AssetBalance>& out,
                                 std::string_view asset_key, std::string_view free_key, std::string_view locked_key);

}  // namespace tb::binance::detail

#include "tradingbot/exchange/binance/json_parser.hpp"

#include "json_util.hpp"

namespace tb::binance {

JsonParser::JsonParser() : impl_(std::make_unique<Impl>()) {}
JsonParser::~JsonParser() = default;
JsonParser::JsonParser(JsonParser&&) noexcept = default;
JsonParser& JsonParser::operator=(JsonParser&&) noexcept = default;

}  // namespace tb::binance

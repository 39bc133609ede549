// Client options for the Binance fakes of the tests (tests/fakes) on 127.0.0.1, whose certificates
// name "localhost": what the benchmarks that drive the real RestClient / WS API session use.
#pragma once

#include <cstdint>

#include "tradingbot/exchange/binance/rest_client.hpp"
#include "tradingbot/exchange/binance/ws_api_session.hpp"

namespace tb::bench {

inline binance::RestClientOptions loopback_rest_options(std::uint16_t port) {
  binance::RestClientOptions o;
  o.host = "localhost";
  o.connect_host = "127.0.0.1";
  o.port = port;
  return o;
}

inline binance::WsApiOptions loopback_ws_api_options(std::uint16_t port) {
  binance::WsApiOptions o;
  o.connection.ws.host = "localhost";
  o.connection.ws.connect_host = "127.0.0.1";
  o.connection.ws.port = port;
  o.connection.ws.target = "/ws-api/v3";
  return o;
}

}  // namespace tb::bench

// SimAccounts: the simulator's signed REST endpoints (POST/DELETE/GET /api/v3/order,
// POST /api/v3/order/test, GET /api/v3/openOrders, GET /api/v3/account). It checks the API key
// (X-MBX-APIKEY), the signature over exactly the bytes sent (query string + body, HMAC hex or
// Ed25519 base64), timestamp/recvWindow, the parameters and filters, and the balances; then
// places the order in the symbol's MatchingEngine under the account's engine id and moves the
// balances as fills arrive (free/locked, commission on the received asset).
// Responses are rendered here from Binance's documented shapes, independently of the client's
// parsers in exchange/binance, so a shape bug cannot hide on both sides.
// Private to the sim module; the simulator's io_context thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "sim_rest.hpp"
#include "tradingbot/sim/sim_market.hpp"

namespace tb::sim {

class SimAccounts final : public TradeObserver {
 public:
  SimAccounts(const SimConfig& config, SimMarket& market);
  ~SimAccounts() override;
  SimAccounts(const SimAccounts&) = delete;
  SimAccounts& operator=(const SimAccounts&) = delete;

  // Not empty when a configured key could not be loaded (start() refuses to run).
  [[nodiscard]] const std::string& load_error() const noexcept { return load_error_; }
  // Request weight of a signed endpoint, or nullopt when `path` is not one.
  [[nodiscard]] static std::optional<std::int64_t> weight_of(boost::beast::http::verb method, std::string_view path,
                                                             const Params& params);
  SimReply handle_rest(boost::beast::http::verb method, std::string_view path, const Params& params,
                       std::string_view raw_query, std::string_view raw_body, std::string_view api_key, std::int64_t now_ms);

  // Checks the API key, the signature over `payload` and timestamp/recvWindow; on success sets
  // `account_out` and returns nullopt, else the error reply.
  std::optional<SimReply> authenticate(const Params& params, const std::string& payload, std::string_view api_key,
                                       std::int64_t now_ms, std::size_t& account_out);
  // Runs an authenticated request (REST method + path; the WS API maps its methods onto these).
  SimReply execute(std::size_t account_index, boost::beast::http::verb method, std::string_view path, const Params& params,
                   std::int64_t now_ms);
  // User-data events (executionReport, outboundAccountPosition JSON) of an account go here.
  void set_user_event_sink(std::function<void(std::size_t account, const std::string& event)> sink);
  [[nodiscard]] std::size_t account_count() const noexcept;

  void on_user_event(std::size_t symbol_index, const book::Trade* trade, const book::OrderExpired* expired,
                     const book::OrderCancelled* cancelled, const book::OrderAccepted* accepted) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::string load_error_;
};

}  // namespace tb::sim

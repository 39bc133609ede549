// RestHandler: the simulator's REST endpoints (public market data and the admin fault switches),
// with Binance's request weights, the per-IP 1-minute weight window (429, then 418 bans) and
// Binance's error JSON. Private to the sim module; runs on the simulator's io_context thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/beast/http.hpp>

#include "tradingbot/sim/sim_config.hpp"
#include "tradingbot/sim/sim_market.hpp"
#include "tradingbot/sim/sim_server.hpp"

namespace tb::sim {

using Params = std::vector<std::pair<std::string, std::string>>;
void parse_form(std::string_view text, Params& out);
[[nodiscard]] const std::string* find_param(const Params& params, std::string_view name);

class WsSession;
void send_text(WsSession& session, std::string text);
// User-data subscriptions live on the WS API session (defined in sim_server.cpp).
[[nodiscard]] bool session_has_user_subscription(const WsSession& session, std::size_t account);
std::int64_t add_user_subscription(WsSession& session, std::size_t account);
[[nodiscard]] const std::string& session_ip(const WsSession& session);

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponseMsg = boost::beast::http::response<boost::beast::http::string_body>;

// One REST answer: HTTP status, JSON body, Retry-After seconds (0 = none).
struct SimReply {
  unsigned status = 200;
  std::string body;
  std::int64_t retry_after_s = 0;
};
[[nodiscard]] std::string error_json(int code, std::string_view msg);

class SimAccounts;

struct AdminHooks {
  std::function<void(bool streams_only)> drop_connections;
  std::function<void()> announce_shutdown;
  std::function<void(bool paused)> pause_agents;
};

class RestHandler {
 public:
  RestHandler(const SimConfig& config, SimMarket& market, FaultSwitches& faults, SimAccounts& accounts)
      : config_(config), market_(market), faults_(faults), accounts_(accounts) {}

  void set_admin_hooks(AdminHooks hooks) { admin_ = std::move(hooks); }
  HttpResponseMsg handle_http(const HttpRequest& request, const std::string& ip);
  // WS API text frame (one request) from `session`.
  void handle_ws_api(const std::string& text, WsSession& session);
  // Charges `weight` to `ip`'s 1-minute window; returns the 429/418 reply when over the limit.
  std::optional<SimReply> charge(const std::string& ip, std::int64_t weight, std::int64_t& used);

 private:
  struct IpWindow {
    std::int64_t minute = 0;       // window start (server ms / 60000)
    std::int64_t used = 0;         // weight used in the window
    std::int64_t rejected = 0;     // requests answered 429 in the window
    std::int64_t banned_until_ms = 0;
  };
  using Reply = SimReply;

  [[nodiscard]] std::int64_t now_ms() const noexcept;
  Reply dispatch(const HttpRequest& request, std::string_view path, const Params& params, std::int64_t& weight,
                 bool& weight_known);
  Reply admin(std::string_view action, const Params& params);

  const SimConfig& config_;
  SimMarket& market_;
  FaultSwitches& faults_;
  SimAccounts& accounts_;
  AdminHooks admin_;
  std::unordered_map<std::string, IpWindow> windows_;
};

}  // namespace tb::sim

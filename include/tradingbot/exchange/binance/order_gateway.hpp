// OrderGateway: the live order path to Binance spot. It sits between oms::OrderManager (which
// decides what exists) and the two transports: the WS API (WsApiSession: low latency, and the
// only source of user data) and REST (RestClient: fallback when the WS API is not ready, and
// reconciliation).
// - send(order): an order the OrderManager accepted (PENDING_NEW) goes out as order.place when
//   the WS API is ready, else as POST /api/v3/order. Rounded and formatted with the symbol's
//   exchangeInfo digits (the strategy/risk side rounds; a price off the tick is refused here).
// - cancel(id) / replace(id, intent): cancel over the same path choice; replace = cancel, then
//   new order once the cancel is confirmed (Binance's cancelReplace is not used: its partial
//   failures -2021/-2022 would need a second recovery path; cancel+new keeps one).
// - Outcomes: ack -> on_execution_report(NEW...), definite error -> on_place_rejected, 5xx /
//   -1007 / timeout / connection lost -> on_place_unknown, then the order is queried by client
//   id (order.status or GET /order) after `unknown_query_delay`, repeatedly until resolved; an
//   execution report arriving first resolves it too.
// - User data: executionReports feed on_execution_report; a gap (WS API reconnect) marks the
//   manager unreconciled and runs reconcile(): GET /openOrders per symbol + GET /myTrades per
//   symbol, then OrderManager::reconcile. myTrades starts at the first trade id this process has
//   not seen (fromId: the restored store's last trade + 1, raised by every fill applied since),
//   so fills made while the daemon was down for hours are found; only a symbol without any known
//   trade falls back to the `trades_lookback` window before the gap. Full pages are followed
//   (fromId = last + 1) until a short one.
// - start(): REST start unless the owner already did (clock + exchangeInfo, readiness must be
//   Ready), WS API up and
//   subscribed, reconcile; then state Armed. Anything failing leaves it not armed (the daemon
//   must refuse to trade); a later gap drops to Reconciling until the next reconcile succeeds.
// Listener (a LiveVenue adapter): every change the gateway applied to an order is reported with
// the order's client id and the OrderManager's view after it: acks, fills, rejects, cancels,
// unknowns. The adapter reads details from OrderManager::find(id).
// Threading: the trading thread (the io_context's) only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tradingbot/exchange/binance/rest_client.hpp"
#include "tradingbot/exchange/binance/ws_api_session.hpp"
#include "tradingbot/oms/order_manager.hpp"

namespace tb::binance {

enum class GatewayState : std::uint8_t { Stopped, Starting, Reconciling, Armed, Failed };
[[nodiscard]] std::string_view to_string(GatewayState s) noexcept;

enum class GatewayEventKind : std::uint8_t {
  Acked,        // the exchange has the order (NEW or a later status)
  Filled,       // a fill was applied (partial or complete: see the order's status)
  Rejected,     // the place request definitely failed (reject_code)
  Canceled,     // canceled / expired: terminal without (further) fills
  CancelRejected,
  Unknown,      // place outcome unknown; being resolved
  Resolved,     // an unknown outcome was resolved by a query (see the order's status)
};
[[nodiscard]] std::string_view to_string(GatewayEventKind k) noexcept;

struct GatewayEvent {
  GatewayEventKind kind = GatewayEventKind::Acked;
  oms::ClientOrderId client_id;
  const oms::Order* order = nullptr;  // the manager's order after the change (may be null if retired)
  std::int32_t error_code = 0;        // Rejected / CancelRejected
  Qty last_qty;                       // Filled
  Price last_price;                   // Filled
  std::int64_t trade_id = -1;         // Filled
  bool maker = false;                 // Filled
};

class GatewayListener {
 public:
  virtual ~GatewayListener() = default;
  virtual void on_gateway_event(const GatewayEvent& event) = 0;
  virtual void on_gateway_state(GatewayState state) = 0;
};

struct OrderGatewayOptions {
  std::vector<Symbol> symbols;                          // traded symbols (reconciliation scope)
  Nanos unknown_query_delay = 1 * kNanosPerSecond;      // first query of an unknown outcome
  Nanos query_interval = 2 * kNanosPerSecond;           // then every this long until resolved
  Nanos trades_lookback = 10 * 60 * kNanosPerSecond;    // myTrades window when no trade id is known
  bool prefer_ws_api = true;                            // false: REST only (tests, incidents)
};

struct GatewayStatus {
  GatewayState state = GatewayState::Stopped;
  WsApiStatus ws_api;
  RestStatus rest;
  std::uint64_t sent_ws = 0;
  std::uint64_t sent_rest = 0;
  std::uint64_t not_sent = 0;
  std::uint64_t unknown = 0;
  std::uint64_t queries = 0;
  std::uint64_t reconciles = 0;
  std::uint64_t reconcile_failures = 0;
  std::uint64_t gaps = 0;
};

class OrderGateway : public std::enable_shared_from_this<OrderGateway>, private WsApiListener {
 public:
  // rest, om, listener must outlive the gateway. The WS API session is created here on the
  // RestClient's clock and rate limits.
  [[nodiscard]] static std::shared_ptr<OrderGateway> create(boost::asio::io_context& ioc, net::TlsContextPtr tls,
                                                            std::shared_ptr<RestClient> rest, WsApiOptions ws_options,
                                                            RequestSigner& signer, std::string_view api_key,
                                                            oms::OrderManager& om, GatewayListener& listener,
                                                            OrderGatewayOptions options);
  ~OrderGateway() override;

  void start();
  void stop();

  // Sends an order the OrderManager accepted. False when it could not be handed to either
  // transport (the order is then marked rejected in the manager, with code 0).
  bool send(const oms::Order& order);
  // Requests a cancel through the manager and sends it. False when the manager refused.
  bool cancel(const oms::ClientOrderId& id);
  // Sends the cancel of an order the manager already marked PENDING_CANCEL (the trading loop
  // requests cancels itself, then hands them to its venue). False when `id` is not pending cancel.
  bool send_requested_cancel(const oms::ClientOrderId& id);
  // The same for every order of `symbol` (every symbol when empty) pending cancel; returns how
  // many cancels went out.
  std::size_t send_requested_cancels(const Symbol& symbol);
  // Cancel `id`; once the exchange confirms it, submit `intent` through the manager and send it.
  bool replace(const oms::ClientOrderId& id, const OrderIntent& intent);
  // Runs reconciliation now (also done on start and after every user-data gap).
  void reconcile();
  // Trades of `symbol` below this id are already in the (restored) positions: reconciliation
  // ignores them in myTrades instead of applying them a second time. Set before start().
  void set_trade_id_floor(const Symbol& symbol, std::int64_t first_new_trade_id);

  [[nodiscard]] GatewayState state() const noexcept { return state_; }
  [[nodiscard]] bool armed() const noexcept { return state_ == GatewayState::Armed; }
  [[nodiscard]] GatewayStatus status() const;
  [[nodiscard]] WsApiSession& ws_api() noexcept { return *ws_; }
  [[nodiscard]] RestClient& rest() noexcept { return *rest_; }

  // Builds the wire order for `order` (exchangeInfo digits). False when the symbol is unknown.
  [[nodiscard]] bool to_new_order(const oms::Order& order, NewOrder& out) const noexcept;

 private:
  OrderGateway(boost::asio::io_context& ioc, std::shared_ptr<RestClient> rest, RequestSigner& signer,
               std::string_view api_key, oms::OrderManager& om, GatewayListener& listener,
               OrderGatewayOptions options);
  // WsApiListener
  void on_ws_api_completion(const WsApiCompletion& completion) override;
  void on_user_event(const UserDataEvent& event) override;
  void on_ws_api_state(WsApiState state, bool gap) override;

  void on_place_result(const oms::ClientOrderId& id, bool ok, bool unknown, std::int32_t code, const OrderResponse* r);
  void on_cancel_result(const oms::ClientOrderId& id, bool ok, bool unknown, std::int32_t code, const OrderResponse* r);
  void on_query_result(const oms::ClientOrderId& id, bool ok, std::int32_t code, const OrderResponse* r);
  void send_cancel(const oms::Order& order);
  void send_query(const oms::ClientOrderId& id);
  void schedule_queries(Nanos delay);
  oms::ReportResult apply_report(const oms::ExecutionReport& report);
  // Whether applying a report changed anything the listener should hear about.
  [[nodiscard]] static bool changed(const oms::ReportResult& r) noexcept {
    return r.status == oms::ReportStatus::Applied || r.fill_applied;
  }
  // Per symbol: trades below `floor` are in the restored positions; `next` is the first trade id
  // not seen yet (0 while none is known), where reconciliation's myTrades starts.
  struct TradeCursor {
    Symbol symbol;
    std::int64_t floor = 0;
    std::int64_t next = 0;
  };
  TradeCursor& trade_cursor(const Symbol& symbol);
  void note_trade(const Symbol& symbol, std::int64_t trade_id);
  void emit(GatewayEventKind kind, const oms::ClientOrderId& id, std::int32_t code = 0);
  void set_state(GatewayState state);
  [[nodiscard]] Nanos now() const noexcept { return wall_clock_ns(); }

  boost::asio::io_context& ioc_;
  std::shared_ptr<RestClient> rest_;
  std::shared_ptr<WsApiSession> ws_;
  RequestSigner& signer_;
  std::string api_key_;
  oms::OrderManager& om_;
  GatewayListener& listener_;
  OrderGatewayOptions options_;
  GatewayState state_ = GatewayState::Stopped;
  JsonParser parser_;
  OrderResponse response_;
  std::vector<OrderResponse> orders_;
  std::vector<AccountTrade> trades_;
  boost::asio::steady_timer query_timer_;
  bool query_armed_ = false;
  bool reconciling_ = false;
  bool reconcile_again_ = false;
  bool ws_was_ready_ = false;
  Nanos gap_since_ = 0;
  struct PendingReplace {
    oms::ClientOrderId old_id;
    OrderIntent intent;
  };
  std::vector<PendingReplace> replaces_;
  std::vector<TradeCursor> trade_cursors_;
  std::vector<oms::ClientOrderId> cancel_scratch_;
  GatewayStatus counters_;
};

// Conversions between the wire (binance) and the order manager's (oms) vocabulary.
[[nodiscard]] oms::ExecutionReport to_oms_report(const ExecutionReport& x) noexcept;
[[nodiscard]] oms::ExchangeOrder to_oms_order(const OrderResponse& r) noexcept;
// A place/cancel/query response as a report (x=NEW or CANCELED with the status it carries).
[[nodiscard]] oms::ExecutionReport response_to_report(const OrderResponse& r) noexcept;

}  // namespace tb::binance

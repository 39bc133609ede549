#include "tradingbot/exchange/binance/market_streams.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_set>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <spdlog/spdlog.h>

namespace tb::binance {
namespace asio = boost::asio;

std::string stream_name(const Symbol& symbol, std::string_view stream) {
  std::string name;
  name.reserve(symbol.view().size() + 1 + stream.size());
  for (const char c : symbol.view()) name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  name.push_back('@');
  name.append(stream);
  return name;
}

std::vector<std::string> stream_names(std::span<const Symbol> symbols, std::span<const std::string> streams) {
  std::vector<std::string> names;
  std::unordered_set<std::string> seen;
  for (const Symbol& symbol : symbols) {
    for (const std::string& stream : streams) {
      std::string name = stream_name(symbol, stream);
      if (seen.insert(name).second) names.push_back(std::move(name));
    }
  }
  return names;
}

std::vector<std::vector<std::string>> partition_streams(std::span<const std::string> names,
                                                        std::size_t max_per_connection) {
  const std::size_t per = std::max<std::size_t>(1, max_per_connection);
  std::vector<std::vector<std::string>> groups;
  for (std::size_t i = 0; i < names.size(); i += per) {
    const std::size_t end = std::min(names.size(), i + per);
    groups.emplace_back(names.begin() + static_cast<std::ptrdiff_t>(i), names.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return groups;
}

std::string combined_stream_target(std::string_view base_path, std::span<const std::string> names) {
  std::string target(base_path);
  while (!target.empty() && target.back() == '/') target.pop_back();
  target += "/stream?streams=";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) target.push_back('/');
    target += names[i];
  }
  return target;
}

std::string control_message(std::string_view method, std::span<const std::string> names, std::int64_t id) {
  std::string out = R"({"method":")";
  out += method;
  out += R"(","params":[)";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    out += names[i];  // stream names are [a-z0-9@_:+.-]: nothing to escape
    out.push_back('"');
  }
  out += R"(],"id":)";
  out += std::to_string(id);
  out.push_back('}');
  return out;
}

std::string_view feed_state_name(FeedState state) noexcept {
  switch (state) {
    case FeedState::closed: return "closed";
    case FeedState::open: return "open";
    case FeedState::half_open: return "half_open";
  }
  return "unknown";
}

MarketStreamOptions MarketStreamOptions::from_config(const config::Config& config) {
  MarketStreamOptions o;
  o.ws.ws.host = config.exchange.ws.host;
  o.ws.ws.port = config.exchange.ws.port;
  o.ws_base_path = config.exchange.ws.path;
  o.rest_host = config.exchange.rest.host;
  o.rest_port = config.exchange.rest.port;
  o.symbols = config.market.symbols;
  o.streams = config.market.streams;
  o.depth_snapshot_limit = config.market.depth_snapshot_limit;
  o.stale_after = config.market.stale_after_ms * kNanosPerMilli;
  o.close_after = o.stale_after;
  o.refresh_min_interval = std::max<Nanos>(100 * kNanosPerMilli, config.market.price_cache_ttl_ms * kNanosPerMilli);
  return o;
}

struct MarketStreamManager::Connection {
  std::size_t index = 0;
  std::vector<std::string> url_streams;  // in the connect URL (fixed for the connection's life)
  std::vector<std::string> streams;      // wanted now (after runtime (un)subscriptions)
  std::vector<Symbol> symbols;           // symbols carried by `streams`
  std::shared_ptr<net::ReconnectingWebSocket> ws;
  bool up = false;
  bool delivered = false;  // a message arrived since the current connection opened
  ConnectionStats stats;
  std::uint64_t window_messages = 0;
};

struct MarketStreamManager::SymbolFeed {
  SymbolFeedStats stats;
  bool tracked = true;
  std::optional<std::size_t> connection;
  Nanos opened_at = 0;    // breaker opened (monotonic)
  Nanos fresh_since = 0;  // half_open entered
  bool snapshot_queued = false;
  Nanos next_snapshot_at = 0;
  bool refresh_wanted = false;
  Nanos last_refresh_at = 0;
  std::uint64_t window_messages = 0;
};

MarketStreamManager::MarketStreamManager(asio::io_context& ioc, net::TlsContextPtr tls, MarketStreamOptions options,
                                         MarketDataPipeline& pipeline)
    : ioc_(ioc),
      tls_(std::move(tls)),
      options_(std::move(options)),
      pipeline_(pipeline),
      tick_timer_(ioc),
      snapshot_timer_(ioc),
      rate_limits_(options_.rate_limits ? options_.rate_limits : std::make_shared<RateLimitTracker>()),
      snapshot_backoff_(options_.snapshot_backoff, 0x5a95) {
  net::HttpsPoolOptions pool_options;
  pool_options.max_per_host = 4;  // snapshots and polls are serialised; 4 is plenty
  pool_options.request_timeout = options_.rest_timeout;
  pool_ = net::HttpsConnectionPool::create(ioc_, tls_, pool_options);
  for (const Symbol& symbol : options_.symbols) feed(symbol);
  pipeline_.set_snapshot_request_handler([this](const Symbol& symbol) { on_snapshot_wanted(symbol); });
}

MarketStreamManager::~MarketStreamManager() {
  stop();
  *alive_ = false;
  pipeline_.set_snapshot_request_handler({});
}

MarketStreamManager::SymbolFeed* MarketStreamManager::feed(const Symbol& symbol) {
  if (auto it = feed_index_.find(symbol); it != feed_index_.end()) return feeds_[it->second].get();
  auto f = std::make_unique<SymbolFeed>();
  f->stats.symbol = symbol;
  feed_index_.emplace(symbol, feeds_.size());
  feeds_.push_back(std::move(f));
  return feeds_.back().get();
}

void MarketStreamManager::start() {
  if (running_) return;
  running_ = true;
  const Nanos now = monotonic_ns();
  for (auto& f : feeds_) f->opened_at = now;  // start-up grace: stale_after before a first trip
  rate_window_start_ = now;
  next_poll_at_ = now;
  build_connections(stream_names(options_.symbols, options_.streams));
  on_tick();
}

void MarketStreamManager::stop() {
  if (!running_) return;
  running_ = false;
  tick_timer_.cancel();
  snapshot_timer_.cancel();
  for (auto& conn : connections_) {
    if (conn->ws) conn->ws->stop("stopping");
    conn->up = false;
  }
  pool_->shutdown();
}

void MarketStreamManager::build_connections(const std::vector<std::string>& names) {
  for (auto& group : partition_streams(names, options_.max_streams_per_connection)) {
    start_connection(add_connection(std::move(group)));
  }
  refresh_symbol_connections();
}

MarketStreamManager::Connection& MarketStreamManager::add_connection(std::vector<std::string> names) {
  auto conn = std::make_unique<Connection>();
  conn->index = connections_.size();
  conn->stats.index = conn->index;
  conn->url_streams = names;
  conn->streams = std::move(names);
  for (const auto& name : conn->streams) {
    auto& fresh = streams_[name];
    fresh.name = name;
    fresh.connection = conn->index;
  }
  connections_.push_back(std::move(conn));
  return *connections_.back();
}

void MarketStreamManager::start_connection(Connection& conn) {
  net::ReconnectingOptions ro = options_.ws;
  ro.ws.target = combined_stream_target(options_.ws_base_path, conn.url_streams);
  ro.backoff_seed = options_.ws.backoff_seed + conn.index;
  conn.ws = net::ReconnectingWebSocket::create(ioc_, tls_, ro);
  Connection* c = &conn;
  conn.ws->on_open([this, c](net::WebSocketClient& client, bool standby) { on_connection_open(*c, client, standby); });
  conn.ws->on_message([this, c](const net::WsMessage& message) { on_frame(*c, message); });
  conn.ws->on_disconnected([this, c](const net::CloseReason& reason, Nanos) { on_connection_down(*c, reason); });
  conn.ws->start();
}

void MarketStreamManager::refresh_symbol_connections() {
  for (auto& f : feeds_) f->connection.reset();
  for (auto& conn : connections_) {
    conn->symbols.clear();
    conn->stats.streams = conn->streams.size();
    for (const auto& name : conn->streams) {
      // The symbol is the part before the first '@', uppercased.
      const std::string_view lower = std::string_view(name).substr(0, name.find('@'));
      std::string upper(lower);
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      const auto symbol = Symbol::parse(upper);
      if (!symbol) continue;
      if (std::find(conn->symbols.begin(), conn->symbols.end(), *symbol) == conn->symbols.end()) {
        conn->symbols.push_back(*symbol);
      }
      if (auto it = feed_index_.find(*symbol); it != feed_index_.end()) feeds_[it->second]->connection = conn->index;
    }
  }
}

void MarketStreamManager::on_connection_open(Connection& conn, net::WebSocketClient& client, bool standby) {
  // The URL carries url_streams; bring this connection to `streams` (runtime changes). Both
  // messages go through the connection's pacer, under Binance's 5 messages/s.
  std::vector<std::string> subscribe;
  std::vector<std::string> unsubscribe;
  for (const auto& name : conn.streams) {
    if (std::find(conn.url_streams.begin(), conn.url_streams.end(), name) == conn.url_streams.end()) subscribe.push_back(name);
  }
  for (const auto& name : conn.url_streams) {
    if (std::find(conn.streams.begin(), conn.streams.end(), name) == conn.streams.end()) unsubscribe.push_back(name);
  }
  if (!unsubscribe.empty()) (void)client.send(control_message("UNSUBSCRIBE", unsubscribe, next_control_id_++));
  if (!subscribe.empty()) (void)client.send(control_message("SUBSCRIBE", subscribe, next_control_id_++));
  if (standby) return;
  conn.up = true;
  conn.delivered = false;
  ++conn.stats.connects;
  spdlog::info("market data: connection {} open ({} streams)", conn.index, conn.streams.size());
}

void MarketStreamManager::on_connection_down(Connection& conn, const net::CloseReason& reason) {
  ++conn.stats.disconnects;
  conn.stats.last_disconnect = std::string(net::close_cause_name(reason.cause)) + ": " + reason.message;
  // A rotation's standby may have taken over at once; otherwise we are down until the reconnect.
  conn.up = conn.ws && conn.ws->is_open();
  conn.delivered = false;
  spdlog::warn("market data: connection {} lost ({}); books of its {} symbols resync", conn.index,
               conn.stats.last_disconnect, conn.symbols.size());
  // Diffs of the gap are lost: every book carried here must be rebuilt from a new snapshot.
  for (const Symbol& symbol : conn.symbols) pipeline_.on_reconnect(symbol);
}

void MarketStreamManager::on_frame(Connection& conn, const net::WsMessage& message) {
  if (frame_observer_) frame_observer_(message);
  const std::uint64_t shutdowns_before = pipeline_.stats().server_shutdowns;
  const std::size_t size = message.payload.size();
  (void)pipeline_.on_ws_frame_padded(message.payload.data(), size, size + net::kReceivePadding,
                                     message.received_wall_ns);
  ++conn.stats.messages;
  ++conn.window_messages;
  conn.delivered = true;
  const DecodedMessage& decoded = pipeline_.last_message();
  if (!decoded.stream.empty()) {
    if (auto it = streams_.find(decoded.stream); it != streams_.end()) {
      ++it->second.messages;
      it->second.last_message_mono_ns = message.received_mono_ns;
    }
  }
  if (!decoded.symbol.empty()) {
    if (auto it = feed_index_.find(decoded.symbol); it != feed_index_.end()) {
      SymbolFeed& f = *feeds_[it->second];
      ++f.stats.messages;
      ++f.window_messages;
      f.stats.last_message_mono_ns = message.received_mono_ns;
    }
  }
  if (pipeline_.stats().server_shutdowns != shutdowns_before) {
    // Binance is about to close this connection: open the next one now and switch without a gap.
    ++conn.stats.server_shutdowns;
    spdlog::info("market data: serverShutdown on connection {}, rotating", conn.index);
    conn.ws->rotate();
  }
  if (!snapshot_queue_.empty() && !snapshot_in_flight_ && !snapshot_timer_armed_) pump_snapshots();
  if (!book_drain_posted_ && pipeline_.has_deferred_book_levels()) post_book_drain();
}

void MarketStreamManager::post_book_drain() {
  // The books' deep updates are applied after the handlers already waiting (the frames of a
  // burst first), a slice at a time: a frame that arrives meanwhile waits for one slice at most.
  static constexpr std::size_t kLevelsPerSlice = 32;  // ~1-2 us
  book_drain_posted_ = true;
  asio::post(ioc_, [this, alive = alive_] {
    if (!*alive) return;
    book_drain_posted_ = false;
    if (pipeline_.apply_deferred_book_levels(kLevelsPerSlice) != 0) post_book_drain();
  });
}

// ---- REST depth snapshots ----

void MarketStreamManager::on_snapshot_wanted(const Symbol& symbol) {
  // Called from inside the pipeline: queue it and continue later, never call back synchronously.
  SymbolFeed* f = feed(symbol);
  if (f->snapshot_queued) return;
  f->snapshot_queued = true;
  snapshot_queue_.push_back(symbol);
  asio::post(ioc_, [this, alive = alive_] {
    if (*alive) pump_snapshots();
  });
}

void MarketStreamManager::arm_snapshot_timer(Nanos at_mono) {
  snapshot_timer_armed_ = true;
  snapshot_timer_.expires_after(std::chrono::nanoseconds(std::max<Nanos>(0, at_mono - monotonic_ns())));
  // `alive`: a timer that had already expired when stop() or the destructor cancelled it still
  // runs its handler, with success.
  snapshot_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    snapshot_timer_armed_ = false;
    pump_snapshots();
  });
}

void MarketStreamManager::pump_snapshots() {
  if (!running_ || snapshot_in_flight_ || snapshot_timer_armed_) return;
  const Nanos now = monotonic_ns();
  // The first queued symbol whose stream is delivering: a snapshot taken before its diffs flow
  // would most likely predate the first diff and be thrown away.
  for (auto it = snapshot_queue_.begin(); it != snapshot_queue_.end(); ++it) {
    SymbolFeed* f = feed(*it);
    if (!f->tracked) {
      f->snapshot_queued = false;
      snapshot_queue_.erase(it);
      return pump_snapshots();
    }
    if (!f->connection || !connections_[*f->connection]->delivered) continue;
    if (now < f->next_snapshot_at) {
      arm_snapshot_timer(f->next_snapshot_at);
      return;
    }
    const std::int32_t weight = endpoint_weight(Endpoint::Depth, static_cast<std::int32_t>(options_.depth_snapshot_limit));
    const Nanos wall = wall_clock_ns();
    const Nanos allowed_at = rate_limits_->delay_until(weight, wall);
    if (allowed_at > wall) {
      arm_snapshot_timer(now + (allowed_at - wall));
      return;
    }
    snapshot_queue_.erase(it);
    f->snapshot_queued = false;
    rate_limits_->on_sent(weight, wall);
    send_snapshot_request(*f);
    return;
  }
}

net::HttpsRequest MarketStreamManager::rest_request(std::string target) const {
  net::HttpsRequest request;
  request.host = options_.rest_host;
  request.port = options_.rest_port;
  request.connect_host = options_.rest_connect_host;
  request.target = std::move(target);
  request.timeout = options_.rest_timeout;
  return request;
}

void MarketStreamManager::send_snapshot_request(SymbolFeed& f) {
  snapshot_in_flight_ = true;
  ++f.stats.snapshot_requests;
  const Symbol symbol = f.stats.symbol;
  std::string target = "/api/v3/depth?symbol=";
  target += symbol.view();
  target += "&limit=";
  target += std::to_string(options_.depth_snapshot_limit);
  pool_->request(rest_request(std::move(target)), [this, alive = alive_, symbol](net::HttpsResult& result) {
    if (*alive) on_snapshot_response(symbol, result);
  });
}

void MarketStreamManager::account_rest_response(const net::HttpsResult& result) {
  if (!result.ok()) return;
  const Nanos wall = wall_clock_ns();
  std::optional<std::int64_t> retry_after;
  for (const auto& field : result.response) {
    const std::string_view name = field.name_string();
    (void)rate_limits_->on_header(name, field.value(), wall);
    if (boost::beast::iequals(name, "Retry-After")) {
      std::int64_t seconds = 0;
      const std::string_view v = field.value();
      if (std::from_chars(v.data(), v.data() + v.size(), seconds).ec == std::errc{}) retry_after = seconds;
    }
  }
  rate_limits_->on_http_status(static_cast<int>(result.response.result_int()), retry_after, wall);
}

void MarketStreamManager::on_snapshot_response(const Symbol& symbol, net::HttpsResult& result) {
  snapshot_in_flight_ = false;
  if (!running_) return;
  account_rest_response(result);
  SymbolFeed* f = feed(symbol);
  const Nanos wall = wall_clock_ns();
  if (result.ok() && result.response.result_int() == 200) {
    snapshot_backoff_.reset();
    if (snapshot_observer_) snapshot_observer_(symbol, result.response.body(), wall);
    (void)pipeline_.on_rest_depth_snapshot(symbol, result.response.body(), wall);
  } else {
    ++f->stats.snapshot_failures;
    f->next_snapshot_at = monotonic_ns() + snapshot_backoff_.next_delay();
    if (result.ok()) {
      spdlog::warn("market data: depth snapshot {} answered HTTP {}: {:.200}", symbol.view(),
                   result.response.result_int(), result.response.body());
    } else {
      spdlog::warn("market data: depth snapshot {} failed: {}", symbol.view(), result.error);
    }
    pipeline_.on_rest_depth_snapshot_failed(symbol);  // asks again through on_snapshot_wanted
  }
  pump_snapshots();
}

// ---- breaker, polling, rates ----

void MarketStreamManager::on_tick() {
  if (!running_) return;
  const Nanos now = monotonic_ns();
  evaluate_breakers(now);
  maybe_poll(now);
  if (now - rate_window_start_ >= kNanosPerSecond) {
    const double seconds = static_cast<double>(now - rate_window_start_) / static_cast<double>(kNanosPerSecond);
    for (auto& f : feeds_) {
      f->stats.messages_per_s = static_cast<double>(f->window_messages) / seconds;
      f->window_messages = 0;
    }
    for (auto& c : connections_) {
      c->stats.messages_per_s = static_cast<double>(c->window_messages) / seconds;
      c->window_messages = 0;
    }
    rate_window_start_ = now;
  }
  tick_timer_.expires_after(std::chrono::nanoseconds(options_.tick));
  tick_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) on_tick();
  });
}

void MarketStreamManager::evaluate_breakers(Nanos now) {
  for (auto& fp : feeds_) {
    SymbolFeed& f = *fp;
    if (!f.tracked) continue;
    const bool up = f.connection && connections_[*f.connection]->up;
    f.stats.connection_up = up;
    const Nanos last = f.stats.last_message_mono_ns;
    const bool fresh = up && last != 0 && now - last <= options_.stale_after;
    switch (f.stats.state) {
      case FeedState::closed:
        // opened_at doubles as the start-up grace: no trip in the first stale_after.
        if (!fresh && now - f.opened_at > options_.stale_after) {
          f.stats.state = FeedState::open;
          f.opened_at = now;
          ++f.stats.breaker_trips;
          spdlog::warn("market data: {} {}, polling REST bookTicker", f.stats.symbol.view(),
                       up ? "stream stale" : "connection down");
        }
        break;
      case FeedState::open:
        if (fresh && last > f.opened_at) {
          f.stats.state = FeedState::half_open;
          f.fresh_since = now;
        }
        break;
      case FeedState::half_open:
        if (!fresh) {
          f.stats.state = FeedState::open;
          f.opened_at = now;
        } else if (now - f.fresh_since >= options_.close_after) {
          f.stats.state = FeedState::closed;
          f.opened_at = now;
          spdlog::info("market data: {} stream fresh again, REST polling stopped", f.stats.symbol.view());
        }
        break;
    }
  }
}

void MarketStreamManager::maybe_poll(Nanos now) {
  if (poll_in_flight_) return;
  const bool breaker_due = now >= next_poll_at_;
  std::vector<Symbol> symbols;
  for (auto& f : feeds_) {
    if (!f->tracked) continue;
    if (f->refresh_wanted || (breaker_due && f->stats.state != FeedState::closed)) symbols.push_back(f->stats.symbol);
  }
  if (symbols.empty()) return;
  const auto n = static_cast<std::int32_t>(symbols.size());
  const std::int32_t weight = endpoint_weight(Endpoint::TickerBookTicker, n);
  const Nanos wall = wall_clock_ns();
  if (rate_limits_->can_send(weight, wall) != RateDecision::Ok) return;  // the next tick tries again
  std::string target = "/api/v3/ticker/bookTicker?";
  if (n == 1) {
    target += "symbol=";
    target += symbols.front().view();
  } else {
    target += "symbols=%5B";  // symbols=["A","B"], URL-encoded
    for (std::size_t i = 0; i < symbols.size(); ++i) {
      if (i > 0) target += ',';
      target += "%22";
      target += symbols[i].view();
      target += "%22";
    }
    target += "%5D";
  }
  for (auto& f : feeds_) f->refresh_wanted = false;
  if (breaker_due) next_poll_at_ = now + options_.poll_interval;
  rate_limits_->on_sent(weight, wall);
  poll_in_flight_ = true;
  pool_->request(rest_request(std::move(target)),
                 [this, alive = alive_, symbols = std::move(symbols)](net::HttpsResult& result) mutable {
                   if (*alive) on_poll_response(std::move(symbols), result);
                 });
}

void MarketStreamManager::on_poll_response(std::vector<Symbol> symbols, net::HttpsResult& result) {
  poll_in_flight_ = false;
  if (!running_) return;
  account_rest_response(result);
  const Nanos wall = wall_clock_ns();
  bool ok = result.ok() && result.response.result_int() == 200;
  if (ok && parse_book_tickers(parser_, result.response.body(), tickers_) != ParseStatus::Ok) ok = false;
  if (!ok) {
    for (const Symbol& symbol : symbols) ++feed(symbol)->stats.rest_poll_failures;
    spdlog::warn("market data: bookTicker poll failed: {}",
                 result.ok() ? "HTTP " + std::to_string(result.response.result_int()) : result.error);
    return;
  }
  for (const BookTicker& t : tickers_) {
    auto it = feed_index_.find(t.symbol);
    if (it == feed_index_.end() || !feeds_[it->second]->tracked) continue;
    ++feeds_[it->second]->stats.rest_polls;
    pipeline_.price_cache().put(t.symbol,
                                market::PriceQuote{t.bid_price, t.bid_qty, t.ask_price, t.ask_qty, 0,
                                                   market::PriceSource::Rest},
                                wall);
  }
}

bool MarketStreamManager::request_price_refresh(const Symbol& symbol) {
  auto it = feed_index_.find(symbol);
  if (it == feed_index_.end() || !feeds_[it->second]->tracked) return false;
  SymbolFeed& f = *feeds_[it->second];
  const Nanos now = monotonic_ns();
  if (f.last_refresh_at != 0 && now - f.last_refresh_at < options_.refresh_min_interval) return true;
  f.last_refresh_at = now;
  f.refresh_wanted = true;
  if (running_) maybe_poll(now);
  return true;
}

// ---- runtime subscription changes ----

void MarketStreamManager::update_subscriptions(std::vector<Symbol> symbols, std::vector<std::string> streams) {
  const std::vector<std::string> wanted = stream_names(symbols, streams);
  const std::unordered_set<std::string> wanted_set(wanted.begin(), wanted.end());
  for (auto& conn : connections_) {
    std::vector<std::string> gone;
    std::vector<std::string> kept;
    for (auto& name : conn->streams) (wanted_set.count(name) ? kept : gone).push_back(name);
    if (!gone.empty()) {
      if (conn->ws) (void)conn->ws->send(control_message("UNSUBSCRIBE", gone, next_control_id_++));
      for (const auto& name : gone) streams_.erase(name);
      conn->streams = std::move(kept);
    }
  }
  std::vector<std::string> added;
  for (const auto& name : wanted) {
    if (!streams_.count(name)) added.push_back(name);
  }
  std::size_t next = 0;
  for (auto& conn : connections_) {
    if (next == added.size()) break;
    const std::size_t room = options_.max_streams_per_connection > conn->streams.size()
                                 ? options_.max_streams_per_connection - conn->streams.size()
                                 : 0;
    if (room == 0) continue;
    const std::size_t take = std::min(room, added.size() - next);
    std::vector<std::string> batch(added.begin() + static_cast<std::ptrdiff_t>(next),
                                   added.begin() + static_cast<std::ptrdiff_t>(next + take));
    next += take;
    for (const auto& name : batch) {
      auto& fresh = streams_[name];
      fresh.name = name;
      fresh.connection = conn->index;
      conn->streams.push_back(name);
    }
    if (conn->ws) (void)conn->ws->send(control_message("SUBSCRIBE", batch, next_control_id_++));
  }
  std::vector<std::string> rest(added.begin() + static_cast<std::ptrdiff_t>(next), added.end());
  const std::unordered_set<Symbol> symbol_set(symbols.begin(), symbols.end());
  for (auto& f : feeds_) f->tracked = symbol_set.count(f->stats.symbol) > 0;
  for (const Symbol& symbol : symbols) {
    SymbolFeed* f = feed(symbol);
    if (f->opened_at == 0) f->opened_at = monotonic_ns();
  }
  options_.symbols = std::move(symbols);
  options_.streams = std::move(streams);
  if (!rest.empty()) {
    for (auto& group : partition_streams(rest, options_.max_streams_per_connection)) {
      Connection& conn = add_connection(std::move(group));
      if (running_) start_connection(conn);
    }
  }
  refresh_symbol_connections();
  spdlog::info("market data: subscriptions now {} streams on {} connections", streams_.size(), connections_.size());
}

void MarketStreamManager::rotate_all() {
  for (auto& conn : connections_) {
    if (conn->ws) conn->ws->rotate();
  }
}

// ---- stats ----

std::optional<FeedState> MarketStreamManager::feed_state(const Symbol& symbol) const {
  auto it = feed_index_.find(symbol);
  if (it == feed_index_.end() || !feeds_[it->second]->tracked) return std::nullopt;
  return feeds_[it->second]->stats.state;
}

std::vector<SymbolFeedStats> MarketStreamManager::symbol_stats() const {
  std::vector<SymbolFeedStats> out;
  for (const auto& f : feeds_) {
    if (f->tracked) out.push_back(f->stats);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.symbol < b.symbol; });
  return out;
}

std::vector<ConnectionStats> MarketStreamManager::connection_stats() const {
  std::vector<ConnectionStats> out;
  for (const auto& c : connections_) {
    ConnectionStats s = c->stats;
    s.up = c->up;
    s.streams = c->streams.size();
    if (c->ws) s.rotations = c->ws->stats().rotations;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<StreamFreshness> MarketStreamManager::stream_stats() const {
  std::vector<StreamFreshness> out;
  out.reserve(streams_.size());
  for (const auto& [name, fresh] : streams_) out.push_back(fresh);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace tb::binance

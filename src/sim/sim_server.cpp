#include "tradingbot/sim/sim_server.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <set>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/market/capture.hpp"
#include "tradingbot/net/certificate_authority.hpp"
#include "sim_accounts.hpp"
#include "sim_rest.hpp"

namespace tb::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::size_t kMaxRequestBody = 64 * 1024;
constexpr std::size_t kMaxRequestHeader = 16 * 1024;
constexpr std::size_t kMaxIncomingFrame = 64 * 1024;
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kWriteTimeout = std::chrono::seconds(10);

std::int64_t mono_ms() noexcept { return monotonic_ns() / 1'000'000; }

// Stream names the simulator produces, after "<symbol>@".
bool known_stream_kind(std::string_view kind) {
  static const std::set<std::string_view> kKinds = {
      "bookTicker", "trade", "aggTrade", "depth", "depth@100ms", "depth@1000ms", "depth5", "depth10", "depth20",
      "depth5@100ms", "depth10@100ms", "depth20@100ms", "kline_1s", "kline_1m"};
  return kKinds.count(kind) != 0;
}

// "btcusdt@depth@100ms" -> valid when the symbol part is lower case and the kind is known.
bool valid_stream_name(std::string_view name) {
  const auto at = name.find('@');
  if (at == 0 || at == std::string_view::npos) return false;
  for (char c : name.substr(0, at)) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return known_stream_kind(name.substr(at + 1));
}

// depth@1000ms is Binance's explicit spelling of the default 1000 ms diff stream.
std::string canonical_stream(std::string_view name) {
  constexpr std::string_view kSlow = "@depth@1000ms";
  if (name.size() > kSlow.size() && name.substr(name.size() - kSlow.size()) == kSlow) {
    return std::string(name.substr(0, name.size() - 5));
  }
  return std::string(name);
}

std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int value = 0;
      const auto [p, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
      if (ec == std::errc() && p == in.data() + i + 3) {
        out.push_back(static_cast<char>(value));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i] == '+' ? ' ' : in[i]);
  }
  return out;
}

}  // namespace

// Parses "a=1&b=2" (percent-decoded) appending to `out`.
void parse_form(std::string_view text, Params& out) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      if (eq == std::string_view::npos) {
        out.emplace_back(percent_decode(pair), std::string());
      } else {
        out.emplace_back(percent_decode(pair.substr(0, eq)), percent_decode(pair.substr(eq + 1)));
      }
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
}

const std::string* find_param(const Params& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------

class WsSession;

struct SimServer::Impl final : StreamSink {
  Impl(asio::io_context& io, SimConfig cfg, net::TlsContextPtr tls_context)
      : ioc(io),
        config(std::move(cfg)),
        tls(std::move(tls_context)),
        acceptor(io),
        market(config, *this),
        accounts(config, market),
        rest(config, market, faults, accounts),
        step_timer(io),
        fast_timer(io),
        slow_timer(io),
        kline_timer(io) {
    faults.clock_skew_ms = config.clock_skew_ms;
    faults.response_delay_ms = config.response_delay_ms;
    accounts.set_user_event_sink([this](std::size_t account, const std::string& event) { publish_user(account, event); });
  }

  // {"subscriptionId":N,"event":{...}} to every WS API connection subscribed to the account.
  void publish_user(std::size_t account, const std::string& event);

  void publish(std::string_view stream, std::string_view payload) override;

  [[nodiscard]] std::int64_t now_ms() const noexcept { return wall_clock_ns() / 1'000'000 + faults.clock_skew_ms; }
  [[nodiscard]] bool silent() const noexcept { return faults.silent_until_ms > mono_ms(); }

  void do_accept();
  void on_accept(const error_code& ec, tcp::socket socket);
  void arm(asio::steady_timer& timer, std::int64_t period_ms, std::function<void()> tick);

  asio::io_context& ioc;
  SimConfig config;
  net::TlsContextPtr tls;
  tcp::acceptor acceptor;
  SimMarket market;
  SimAccounts accounts;
  RestHandler rest;
  FaultSwitches faults;
  SimServerStats stats;
  std::vector<WsSession*> sessions;  // open WebSocket sessions (registered/unregistered by them)
  asio::steady_timer step_timer, fast_timer, slow_timer, kline_timer;
  std::uint64_t kline_ticks = 0;
  bool stopped = false;
  // Capture replay (config.replay_file): frames are published at their recorded pace.
  std::optional<market::CaptureReader> replay;
  asio::steady_timer replay_timer{ioc};
  Nanos replay_first_ns = 0;
  std::chrono::steady_clock::time_point replay_start;
  bool replay_started = false;
  std::uint64_t replay_frames = 0;
  std::uint64_t replay_skipped = 0;
  void start_replay();
  void replay_next();
  void replay_record(std::string_view payload);
  bool agents_paused = false;
};

// ---------------------------------------------------------------------------------------------
// WsSession: one market-stream (or WS API) connection.

enum class WsKind : std::uint8_t { CombinedStreams, RawStreams, WsApi };

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  using Stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  WsSession(beast::ssl_stream<beast::tcp_stream>&& stream, SimServer::Impl& server, WsKind kind, std::string ip)
      : ws_(std::move(stream)), server_(server), kind_(kind), ping_timer_(ws_.get_executor()), life_timer_(ws_.get_executor()),
        ip_(std::move(ip)) {}

  [[nodiscard]] const std::string& ip() const noexcept { return ip_; }
  // User-data subscriptions of this WS API connection: account index -> subscription id.
  std::vector<std::pair<std::size_t, std::int64_t>> user_subscriptions;
  std::int64_t next_subscription_id = 0;

  ~WsSession() { unregister(); }

  void run(http::request<http::string_body> request, std::vector<std::string> initial_streams) {
    for (auto& s : initial_streams) subscriptions_.insert(canonical_stream(s));
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = kHandshakeTimeout;
    timeouts.idle_timeout = websocket::stream_base::none();  // liveness is our own ping/pong rule
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.read_message_max(kMaxIncomingFrame);
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::close) return;
      if (kind == websocket::frame_type::pong) last_pong_ms_ = mono_ms();
      count_incoming();
    });
    ws_.async_accept(request, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
  }

  [[nodiscard]] bool combined() const noexcept { return kind_ == WsKind::CombinedStreams; }
  [[nodiscard]] bool wants(std::string_view stream) const { return open_ && subscriptions_.count(stream) != 0; }
  [[nodiscard]] WsKind kind() const noexcept { return kind_; }

  void send(std::shared_ptr<const std::string> text) { enqueue(Out{std::move(text), OutKind::Text}); }

  void server_shutdown_notice() {
    const std::string event = R"({"e":"serverShutdown","E":)" + std::to_string(server_.now_ms()) + "}";
    if (kind_ == WsKind::CombinedStreams) {
      send(std::make_shared<const std::string>(R"({"stream":"!serverShutdown","data":)" + event + "}"));
    } else if (kind_ == WsKind::RawStreams) {
      send(std::make_shared<const std::string>(event));
    } else {
      send(std::make_shared<const std::string>(R"({"event":)" + event + "}"));
    }
  }

  // Proper close (close frame), then the socket goes.
  void close(websocket::close_code code, std::string_view reason) {
    if (closing_ || !open_) return abort();
    closing_ = true;
    queue_.clear();
    websocket::close_reason cr(code);
    cr.reason.assign(reason.data(), reason.size());
    if (writing_) {
      pending_close_ = cr;
      return;
    }
    do_close(cr);
  }
  // Abrupt end: TCP close without a WebSocket or TLS goodbye (network failure, drop fault).
  void abort() {
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
    finish();
  }

 private:
  enum class OutKind : std::uint8_t { Text, Ping };
  struct Out {
    std::shared_ptr<const std::string> text;
    OutKind kind;
  };

  void on_accept(const error_code& ec) {
    if (ec) return fail(ec, "accept");
    open_ = true;
    last_pong_ms_ = mono_ms();
    server_.sessions.push_back(this);
    registered_ = true;
    if (server_.replay && !server_.replay_started && kind_ != WsKind::WsApi) server_.start_replay();
    ++server_.stats.ws_sessions_opened;
    ++server_.stats.ws_sessions_open;
    arm_ping();
    arm_lifetime();
    do_read();
    do_write();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
  }

  void on_read(const error_code& ec, std::size_t) {
    if (ec) return fail(ec, "read");
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!count_incoming()) return;
    if (kind_ == WsKind::WsApi) {
      server_.rest.handle_ws_api(text, *this);
    } else {
      handle_control(text);
    }
    if (!closing_) do_read();
  }

  // Binance: more than N incoming messages (text, ping, pong) in a second disconnects a market
  // stream connection (the WS API is limited by request weight instead).
  bool count_incoming() {
    if (kind_ == WsKind::WsApi) return true;
    const std::int64_t now = mono_ms();
    if (now - window_start_ms_ >= 1000) {
      window_start_ms_ = now;
      window_count_ = 0;
    }
    if (++window_count_ > server_.config.max_incoming_per_s) {
      if (!closing_) {
        ++server_.stats.ws_rate_limit_cuts;
        close(websocket::close_code::policy_error, "Too many requests");
      }
      return false;
    }
    return true;
  }

  void reply(std::string text) { send(std::make_shared<const std::string>(std::move(text))); }

  // SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY.
  void handle_control(const std::string& text) {
    simdjson::padded_string padded(text);
    simdjson::ondemand::document doc;
    if (parser_.iterate(padded).get(doc)) return reply(R"({"error":{"code":3,"msg":"Invalid JSON: expected value at line 1 column 1"},"id":null})");
    simdjson::ondemand::object object;
    if (doc.get_object().get(object)) return reply(R"({"error":{"code":3,"msg":"Invalid JSON: expected an object"},"id":null})");
    std::string method;
    std::string id_json = "null";
    std::vector<std::string> params;
    bool params_present = false;
    bool params_ok = true;
    bool json_ok = true;
    for (auto field : object) {
      std::string_view key;
      if (field.unescaped_key().get(key)) {
        json_ok = false;
        break;
      }
      simdjson::ondemand::value value;
      if (field.value().get(value)) {
        json_ok = false;
        break;
      }
      if (key == "method") {
        std::string_view m;
        if (value.get_string().get(m)) {
          params_ok = false;
        } else {
          method = std::string(m);
        }
      } else if (key == "id") {
        simdjson::ondemand::json_type type;
        if (value.type().get(type)) {
          json_ok = false;
          break;
        }
        std::string_view raw;
        if (simdjson::to_json_string(value).get(raw)) {
          json_ok = false;
          break;
        }
        if (type == simdjson::ondemand::json_type::string) {
          // Binance: alphanumeric string of at most 36 characters.
          std::string_view sv(raw.substr(1, raw.size() - 2));
          if (sv.size() > 36 || !std::all_of(sv.begin(), sv.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; })) {
            return reply(R"({"error":{"code":2,"msg":"Invalid request: invalid id"},"id":null})");
          }
        } else if (type != simdjson::ondemand::json_type::number && type != simdjson::ondemand::json_type::null) {
          return reply(R"({"error":{"code":2,"msg":"Invalid request: invalid id"},"id":null})");
        }
        id_json = std::string(raw);
      } else if (key == "params") {
        params_present = true;
        simdjson::ondemand::array array;
        if (value.get_array().get(array)) {
          params_ok = false;
          continue;
        }
        for (auto element : array) {
          std::string_view s;
          simdjson::ondemand::json_type type;
          if (element.type().get(type)) {
            json_ok = false;
            break;
          }
          if (type == simdjson::ondemand::json_type::boolean) {
            bool b = false;
            if (element.get_bool().get(b)) {
              params_ok = false;
            } else {
              params.emplace_back(b ? "true" : "false");
            }
          } else if (element.get_string().get(s)) {
            params_ok = false;
          } else {
            params.emplace_back(s);
          }
        }
      } else {
        params_ok = false;
      }
    }
    if (!json_ok) return reply(R"({"error":{"code":3,"msg":"Invalid JSON"},"id":null})");
    auto error = [&](int code, std::string_view msg) {
      reply(R"({"error":{"code":)" + std::to_string(code) + R"(,"msg":")" + std::string(msg) + R"("},"id":)" + id_json + "}");
    };
    if (!params_ok) return error(1, "Invalid value type: expected String");
    if (method == "SUBSCRIBE" || method == "UNSUBSCRIBE") {
      if (!params_present) return error(2, "Invalid request: missing field `params`");
      for (const auto& p : params) {
        if (!valid_stream_name(p)) return error(2, "Invalid request: unknown stream " + p);
      }
      if (method == "SUBSCRIBE") {
        std::set<std::string, std::less<>> next = subscriptions_;
        for (const auto& p : params) next.insert(canonical_stream(p));
        if (static_cast<std::int64_t>(next.size()) > server_.config.max_streams) {
          return error(2, "Invalid request: too many streams (max " + std::to_string(server_.config.max_streams) + ")");
        }
        subscriptions_ = std::move(next);
      } else {
        for (const auto& p : params) subscriptions_.erase(canonical_stream(p));
      }
      return reply(R"({"result":null,"id":)" + id_json + "}");
    }
    if (method == "LIST_SUBSCRIPTIONS") {
      std::string out = R"({"result":[)";
      bool first = true;
      for (const auto& s : subscriptions_) {
        if (!first) out += ',';
        first = false;
        out += '"' + s + '"';
      }
      return reply(out + R"(],"id":)" + id_json + "}");
    }
    if (method == "SET_PROPERTY" || method == "GET_PROPERTY") {
      if (params.empty() || params[0] != "combined") return error(0, "Unknown property");
      if (method == "GET_PROPERTY") return reply(std::string(R"({"result":)") + (combined() ? "true" : "false") + R"(,"id":)" + id_json + "}");
      if (params.size() != 2 || (params[1] != "true" && params[1] != "false")) return error(1, "Invalid value type: expected Boolean");
      if (kind_ != WsKind::WsApi) kind_ = params[1] == "true" ? WsKind::CombinedStreams : WsKind::RawStreams;
      return reply(R"({"result":null,"id":)" + id_json + "}");
    }
    return error(2, "Invalid request: unknown variant `" + method + "`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`");
  }

  void enqueue(Out out) {
    if (!open_ || closing_) return;
    if (static_cast<std::int64_t>(queue_.size()) >= server_.config.send_queue_limit) {
      // A consumer that cannot keep up is cut (Binance does the same) instead of buffering forever.
      ++server_.stats.ws_slow_consumer_cuts;
      spdlog::warn("sim: websocket send queue full ({} frames): disconnecting slow consumer", queue_.size());
      return abort();
    }
    queue_.push_back(std::move(out));
    do_write();
  }

  void do_write() {
    if (writing_ || !open_ || queue_.empty()) return;
    writing_ = true;
    beast::get_lowest_layer(ws_).expires_after(kWriteTimeout);
    Out& front = queue_.front();
    if (front.kind == OutKind::Ping) {
      ws_.async_ping(websocket::ping_data(front.text->data(), front.text->size()),
                     [self = shared_from_this()](const error_code& ec) { self->on_write(ec, 0); });
    } else {
      ws_.text(true);
      ws_.async_write(asio::buffer(*front.text), beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
    }
  }

  void on_write(const error_code& ec, std::size_t) {
    writing_ = false;
    beast::get_lowest_layer(ws_).expires_never();
    if (ec) return fail(ec, "write");
    ++server_.stats.frames_sent;
    if (!queue_.empty()) queue_.pop_front();
    if (pending_close_) {
      auto cr = *pending_close_;
      pending_close_.reset();
      return do_close(cr);
    }
    do_write();
  }

  void do_close(const websocket::close_reason& cr) {
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(2));
    ws_.async_close(cr, [self = shared_from_this()](const error_code&) { self->abort(); });
  }

  void arm_ping() {
    ping_timer_.expires_after(std::chrono::milliseconds(server_.config.ping_interval_ms));
    ping_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || !self->open_ || self->closing_) return;
      // Binance: no pong within the timeout after its pings -> disconnect.
      if (mono_ms() - self->last_pong_ms_ > self->server_.config.pong_timeout_ms) {
        ++self->server_.stats.ws_pong_timeouts;
        return self->close(websocket::close_code::policy_error, "Pong timeout");
      }
      if (!self->server_.silent()) {
        self->enqueue(Out{std::make_shared<const std::string>(std::to_string(mono_ms())), OutKind::Ping});
      }
      self->arm_ping();
    });
  }

  void arm_lifetime() {
    const std::int64_t life_ms = server_.config.connection_lifetime_s * 1000;
    const std::int64_t notice_ms = server_.config.shutdown_notice_ms;
    life_timer_.expires_after(std::chrono::milliseconds(life_ms - notice_ms));
    life_timer_.async_wait([self = shared_from_this(), notice_ms](const error_code& ec) {
      if (ec || !self->open_) return;
      self->server_shutdown_notice();
      self->life_timer_.expires_after(std::chrono::milliseconds(notice_ms));
      self->life_timer_.async_wait([self](const error_code& ec2) {
        if (ec2 || !self->open_) return;
        ++self->server_.stats.ws_lifetime_cuts;
        self->close(websocket::close_code::going_away, "Connection lifetime reached");
      });
    });
  }

  void fail(const error_code& ec, const char* what) {
    if (ec != websocket::error::closed && ec != asio::error::operation_aborted && ec != asio::error::eof) {
      spdlog::debug("sim: websocket {}: {}", what, ec.message());
    }
    abort();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    open_ = false;
    queue_.clear();
    ping_timer_.cancel();
    life_timer_.cancel();
    unregister();
  }

  void unregister() {
    if (!registered_) return;
    registered_ = false;
    auto& v = server_.sessions;
    v.erase(std::remove(v.begin(), v.end(), this), v.end());
    --server_.stats.ws_sessions_open;
  }

  Stream ws_;
  SimServer::Impl& server_;
  WsKind kind_;
  asio::steady_timer ping_timer_;
  asio::steady_timer life_timer_;
  beast::flat_buffer buffer_;
  simdjson::ondemand::parser parser_;
  std::set<std::string, std::less<>> subscriptions_;
  std::deque<Out> queue_;
  std::optional<websocket::close_reason> pending_close_;
  std::int64_t last_pong_ms_ = 0;
  std::int64_t window_start_ms_ = 0;
  std::int64_t window_count_ = 0;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool registered_ = false;
  std::string ip_;

  friend class RestHandler;
};

void send_text(WsSession& session, std::string text) { session.send(std::make_shared<const std::string>(std::move(text))); }
bool session_has_user_subscription(const WsSession& session, std::size_t account) {
  return std::any_of(session.user_subscriptions.begin(), session.user_subscriptions.end(),
                     [account](const auto& sub) { return sub.first == account; });
}
std::int64_t add_user_subscription(WsSession& session, std::size_t account) {
  const std::int64_t id = session.next_subscription_id++;
  session.user_subscriptions.emplace_back(account, id);
  return id;
}
const std::string& session_ip(const WsSession& session) { return session.ip(); }

void SimServer::Impl::publish(std::string_view stream, std::string_view payload) {
  if (sessions.empty() || silent()) return;
  std::shared_ptr<const std::string> raw;
  std::shared_ptr<const std::string> enveloped;
  // Copy the list: a send may cut a slow consumer, which unregisters it.
  const std::vector<WsSession*> targets = sessions;
  for (WsSession* s : targets) {
    if (!s->wants(stream)) continue;
    if (s->combined()) {
      if (!enveloped) {
        std::string e;
        e.reserve(payload.size() + stream.size() + 24);
        e += R"({"stream":")";
        e += stream;
        e += R"(","data":)";
        e += payload;
        e += '}';
        enveloped = std::make_shared<const std::string>(std::move(e));
      }
      s->send(enveloped);
    } else {
      if (!raw) raw = std::make_shared<const std::string>(payload);
      s->send(raw);
    }
  }
}

void SimServer::Impl::publish_user(std::size_t account, const std::string& event) {
  const std::vector<WsSession*> targets = sessions;
  for (WsSession* s : targets) {
    if (s->kind() != WsKind::WsApi) continue;
    for (const auto& [subscribed, id] : s->user_subscriptions) {
      if (subscribed == account) send_text(*s, R"({"subscriptionId":)" + std::to_string(id) + R"(,"event":)" + event + "}");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HttpSession: TLS handshake, then HTTP/1.1 keep-alive requests, or an upgrade to WebSocket.

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, SimServer::Impl& server)
      : stream_(std::move(socket), *server.tls), server_(server), delay_timer_(stream_.get_executor()) {}

  void run() {
    beast::get_lowest_layer(stream_).expires_after(kHandshakeTimeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            beast::bind_front_handler(&HttpSession::on_handshake, shared_from_this()));
  }

 private:
  void on_handshake(const error_code& ec) {
    if (ec) return fail(ec, "tls handshake");
    do_read();
  }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(kMaxRequestBody);
    parser_->header_limit(kMaxRequestHeader);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(server_.config.http_idle_timeout_ms));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(const error_code& ec, std::size_t) {
    if (ec == http::error::end_of_stream) return do_shutdown();
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      return write(plain_error(http::status::payload_too_large, R"({"code":-1000,"msg":"Request too large."})"), false);
    }
    if (ec) return fail(ec, "read");
    http::request<http::string_body> request = parser_->release();
    ++server_.stats.http_requests;
    if (websocket::is_upgrade(request)) return upgrade(std::move(request));
    if (server_.silent() && request.target().substr(0, 11) != "/sim/admin/") {
      // Silence fault: the request is read but never answered; the client's deadline fires.
      return do_read_after_silence();
    }
    const std::string ip = remote_ip();
    auto response = server_.rest.handle_http(request, ip);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    const bool keep = response.keep_alive();
    if (server_.faults.response_delay_ms > 0) {
      auto held = std::make_shared<http::response<http::string_body>>(std::move(response));
      delay_timer_.expires_after(std::chrono::milliseconds(server_.faults.response_delay_ms));
      delay_timer_.async_wait([self = shared_from_this(), held, keep](const error_code& wait_ec) {
        if (wait_ec) return;
        self->write(std::move(*held), keep);
      });
      return;
    }
    write(std::move(response), keep);
  }

  void do_read_after_silence() {
    delay_timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::milliseconds(server_.faults.silent_until_ms)));
    beast::get_lowest_layer(stream_).expires_never();
    delay_timer_.async_wait([self = shared_from_this()](const error_code&) { self->abort(); });
  }

  http::response<http::string_body> plain_error(http::status status, std::string body) {
    http::response<http::string_body> r{status, 11};
    r.set(http::field::content_type, "application/json;charset=UTF-8");
    r.body() = std::move(body);
    r.prepare_payload();
    return r;
  }

  void write(http::response<http::string_body> response, bool keep_alive) {
    response_ = std::move(response);
    beast::get_lowest_layer(stream_).expires_after(kWriteTimeout);
    http::async_write(stream_, response_, [self = shared_from_this(), keep_alive](const error_code& ec, std::size_t) {
      if (ec) return self->fail(ec, "write");
      if (!keep_alive) return self->do_shutdown();
      self->do_read();
    });
  }

  void upgrade(http::request<http::string_body> request) {
    const std::string target(request.target());
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    Params query;
    if (q != std::string::npos) parse_form(std::string_view(target).substr(q + 1), query);
    std::vector<std::string> streams;
    WsKind kind;
    if (path == "/stream") {
      kind = WsKind::CombinedStreams;
      if (const std::string* list = find_param(query, "streams")) {
        std::string_view rest(*list);
        while (!rest.empty()) {
          const auto slash = rest.find('/');
          streams.emplace_back(rest.substr(0, slash));
          if (slash == std::string_view::npos) break;
          rest.remove_prefix(slash + 1);
        }
      }
    } else if (path == "/ws" || path.rfind("/ws/", 0) == 0) {
      kind = WsKind::RawStreams;
      std::string_view rest = std::string_view(path).substr(path.size() > 3 ? 4 : 3);
      while (!rest.empty()) {
        const auto slash = rest.find('/');
        streams.emplace_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
      }
    } else if (path == "/ws-api/v3") {
      kind = WsKind::WsApi;
    } else {
      return write(plain_error(http::status::not_found, R"({"code":-1000,"msg":"Unknown WebSocket path."})"), false);
    }
    for (const auto& s : streams) {
      if (!valid_stream_name(s)) {
        return write(plain_error(http::status::bad_request, R"({"code":-1121,"msg":"Invalid stream name."})"), false);
      }
    }
    if (static_cast<std::int64_t>(streams.size()) > server_.config.max_streams) {
      return write(plain_error(http::status::bad_request, R"({"code":-1000,"msg":"Too many streams."})"), false);
    }
    auto session = std::make_shared<WsSession>(std::move(stream_), server_, kind, remote_ip());
    session->run(std::move(request), std::move(streams));
  }

  std::string remote_ip() {
    error_code ec;
    auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    return ec ? std::string("unknown") : endpoint.address().to_string();
  }

  void do_shutdown() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](const error_code&) { self->abort(); });
  }
  void abort() {
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }
  void fail(const error_code& ec, const char* what) {
    if (ec != asio::error::operation_aborted && ec != beast::error::timeout) spdlog::debug("sim: http {}: {}", what, ec.message());
    abort();
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  SimServer::Impl& server_;
  asio::steady_timer delay_timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

void SimServer::Impl::start_replay() {
  replay_started = true;
  replay_start = std::chrono::steady_clock::now();
  replay_next();
}

// Publishes every record whose (scaled) time has come, then sleeps until the next one.
void SimServer::Impl::replay_next() {
  market::CaptureRecord record;
  while (!stopped) {
    const auto status = replay->next(record);
    if (status != market::CaptureReader::Status::Record) {
      if (status == market::CaptureReader::Status::Error) spdlog::error("sim: replay: {}", replay->error());
      spdlog::info("sim: replay finished: {} frames published, {} skipped", replay_frames, replay_skipped);
      return;
    }
    if (replay_first_ns == 0) replay_first_ns = record.recv_ns;
    const auto offset_ns = (record.recv_ns - replay_first_ns) * 100 / config.replay_speed_percent;
    const auto due = replay_start + std::chrono::nanoseconds(offset_ns);
    replay_record(record.payload);
    if (due > std::chrono::steady_clock::now() + std::chrono::milliseconds(1)) {
      // The record is already published; wait for the next one's time (pace of the capture).
      replay_timer.expires_at(due);
      replay_timer.async_wait([this](const error_code& ec) {
        if (!ec) replay_next();
      });
      return;
    }
  }
}

void SimServer::Impl::replay_record(std::string_view payload) {
  while (!payload.empty() && (payload.back() == '\r' || payload.back() == ' ' || payload.back() == '\n')) payload.remove_suffix(1);
  constexpr std::string_view kStream = R"({"stream":")";
  if (payload.rfind(kStream, 0) == 0) {
    const auto end = payload.find('"', kStream.size());
    constexpr std::string_view kData = R"(,"data":)";
    if (end == std::string_view::npos || payload.substr(end + 1, kData.size()) != kData || payload.back() != '}') {
      ++replay_skipped;
      return;
    }
    const std::string_view stream = payload.substr(kStream.size(), end - kStream.size());
    const std::string_view data = payload.substr(end + 1 + kData.size(), payload.size() - (end + 1 + kData.size()) - 1);
    constexpr std::string_view kSnapshot = "@depthSnapshot";
    if (stream.size() > kSnapshot.size() && stream.substr(stream.size() - kSnapshot.size()) == kSnapshot) {
      auto symbol = Symbol::parse(stream.substr(0, stream.size() - kSnapshot.size()));
      auto index = symbol ? market.find(*symbol) : std::nullopt;
      if (index) {
        market.set_replay_snapshot(*index, data);
      } else {
        ++replay_skipped;
      }
      return;
    }
    publish(stream, data);
    ++replay_frames;
    return;
  }
  if (payload.rfind(R"({"lastUpdateId":)", 0) == 0) {
    // Bare REST snapshot (single-symbol captures): it belongs to the first configured symbol.
    market.set_replay_snapshot(0, payload);
    return;
  }
  ++replay_skipped;  // raw frames without a stream name cannot be routed
}

void SimServer::Impl::do_accept() {
  acceptor.async_accept([this](const error_code& ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void SimServer::Impl::on_accept(const error_code& ec, tcp::socket socket) {
  if (stopped) return;
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    spdlog::warn("sim: accept: {}", ec.message());
  } else {
    // Replies go out at once, as from Binance's front end: with Nagle a response waits for the
    // client's delayed ACK whenever an earlier segment is unacknowledged (~40 ms on loopback).
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<HttpSession>(std::move(socket), *this)->run();
  }
  do_accept();
}

void SimServer::Impl::arm(asio::steady_timer& timer, std::int64_t period_ms, std::function<void()> tick) {
  timer.expires_at(timer.expiry() + std::chrono::milliseconds(period_ms));
  timer.async_wait([this, &timer, period_ms, tick = std::move(tick)](const error_code& ec) mutable {
    if (ec || stopped) return;
    tick();
    // Behind by more than a period (machine stalled): resynchronise instead of bursting.
    if (timer.expiry() + std::chrono::milliseconds(period_ms) < std::chrono::steady_clock::now()) {
      timer.expires_at(std::chrono::steady_clock::now());
    }
    arm(timer, period_ms, std::move(tick));
  });
}

// ---------------------------------------------------------------------------------------------

SimServer::SimServer(asio::io_context& ioc, SimConfig config, net::TlsContextPtr tls)
    : impl_(std::make_unique<Impl>(ioc, std::move(config), std::move(tls))) {
  impl_->rest.set_admin_hooks(AdminHooks{[this](bool streams_only) { drop_connections(streams_only); },
                                         [this] { announce_shutdown(); }, [this](bool paused) { pause_agents(paused); }});
}
SimServer::~SimServer() { stop(); }

Result<std::uint16_t> SimServer::start() {
  Impl& s = *impl_;
  if (!s.accounts.load_error().empty()) return Error{s.accounts.load_error()};
  error_code ec;
  const auto address = asio::ip::make_address(s.config.listen_host, ec);
  if (ec) return Error{"sim.listen: '" + s.config.listen_host + "' is not an IP address"};
  const tcp::endpoint endpoint(address, s.config.listen_port);
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{"sim: cannot listen on " + s.config.listen_host + ":" + std::to_string(s.config.listen_port) + ": " + ec.message()};
  s.do_accept();
  if (!s.config.replay_file.empty()) {
    auto reader = market::CaptureReader::open(s.config.replay_file);
    if (!reader) return reader.error();
    s.replay.emplace(std::move(reader).value());
    if (!s.config.replay_wait_for_client) s.start_replay();
    return port();  // the capture is the only source: no agents, diffs or klines of our own
  }
  const auto now = std::chrono::steady_clock::now();
  for (auto* t : {&s.step_timer, &s.fast_timer, &s.slow_timer, &s.kline_timer}) t->expires_at(now);
  s.arm(s.step_timer, s.config.agent_step_ms, [&s] {
    if (!s.agents_paused) s.market.step(s.now_ms());
  });
  s.arm(s.fast_timer, 100, [&s] { s.market.flush_depth(DiffSpeed::Fast100ms, s.now_ms()); });
  s.arm(s.slow_timer, 1000, [&s] { s.market.flush_depth(DiffSpeed::Slow1000ms, s.now_ms()); });
  // Binance pushes 1s klines every second and the other intervals every two seconds.
  s.arm(s.kline_timer, 1000, [&s] {
    s.market.publish_klines(KlineInterval::S1, s.now_ms());
    if (++s.kline_ticks % 2 == 0) s.market.publish_klines(KlineInterval::M1, s.now_ms());
  });
  return port();
}

void SimServer::stop() {
  if (!impl_ || impl_->stopped) return;
  Impl& s = *impl_;
  s.stopped = true;
  error_code ignored;
  s.acceptor.close(ignored);
  for (auto* t : {&s.step_timer, &s.fast_timer, &s.slow_timer, &s.kline_timer, &s.replay_timer}) t->cancel();
  drop_connections(false);
}

void SimServer::pause_agents(bool paused) noexcept { impl_->agents_paused = paused; }

std::uint16_t SimServer::port() const noexcept {
  error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}
SimMarket& SimServer::market() noexcept { return impl_->market; }
FaultSwitches& SimServer::faults() noexcept { return impl_->faults; }
const SimServerStats& SimServer::stats() const noexcept { return impl_->stats; }
std::int64_t SimServer::now_ms() const noexcept { return impl_->now_ms(); }

void SimServer::drop_connections(bool streams_only) {
  const std::vector<WsSession*> targets = impl_->sessions;
  for (WsSession* s : targets) {
    if (streams_only && s->kind() == WsKind::WsApi) continue;
    s->abort();
  }
}

void SimServer::announce_shutdown() {
  const std::vector<WsSession*> targets = impl_->sessions;
  std::vector<std::shared_ptr<WsSession>> held;
  for (WsSession* s : targets) {
    s->server_shutdown_notice();
    held.push_back(s->shared_from_this());
  }
  auto timer = std::make_shared<asio::steady_timer>(impl_->ioc, std::chrono::milliseconds(impl_->config.shutdown_notice_ms));
  timer->async_wait([timer, held](const error_code&) {
    for (const auto& s : held) s->close(websocket::close_code::going_away, "Server shutdown");
  });
}

Result<net::TlsContextPtr> make_sim_tls(const std::string& cert_dir, std::string& ca_file) {
  auto ca = net::CertificateAuthority::open_or_create(cert_dir, "tradingbot simulator CA");
  if (!ca) return ca.error();
  ca_file = ca.value().ca_cert_file().string();
  auto issued = ca.value().issue_server_certificate("sim-server", {"localhost", "127.0.0.1"});
  if (!issued) return issued.error();
  return net::make_server_tls_context(issued.value().cert_file.string(), issued.value().key_file.string());
}

}  // namespace tb::sim

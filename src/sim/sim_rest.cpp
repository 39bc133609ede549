#include "sim_rest.hpp"

#include "sim_accounts.hpp"

#include <algorithm>
#include <charconv>

#include <simdjson.h>

#include "tradingbot/core/clock.hpp"

namespace tb::sim {
namespace http = boost::beast::http;

namespace {

std::int64_t mono_ms() noexcept { return monotonic_ns() / 1'000'000; }

}  // namespace

std::string error_json(int code, std::string_view msg) {
  std::string out = R"({"code":)";
  append_int(out, code);
  out += R"(,"msg":")";
  for (char c : msg) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += "\"}";
  return out;
}

namespace {

std::string missing(std::string_view name) {
  return error_json(-1102, "Mandatory parameter '" + std::string(name) + "' was not sent, was empty/null, or malformed.");
}

// Strict unsigned integer parameter: digits only (Binance answers -1100 otherwise).
bool parse_uint(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  std::from_chars(text.data(), text.data() + text.size(), out);
  return true;
}

std::string illegal_chars(std::string_view name) {
  return error_json(-1100, "Illegal characters found in parameter '" + std::string(name) + "'; legal range is '^[0-9]{1,20}$'.");
}

// Binance's depth weights by limit.
std::int64_t depth_weight(std::int64_t limit) {
  if (limit <= 100) return 5;
  if (limit <= 500) return 25;
  if (limit <= 1000) return 50;
  return 250;
}

// symbols=["BTCUSDT","ETHUSDT"] -> names; false when malformed.
bool parse_symbol_array(std::string_view text, std::vector<std::string>& out) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return false;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (item.size() < 2 || item.front() != '"' || item.back() != '"') return false;
    out.emplace_back(item.substr(1, item.size() - 2));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return !out.empty();
}

}  // namespace

std::int64_t RestHandler::now_ms() const noexcept { return wall_clock_ns() / 1'000'000 + faults_.clock_skew_ms; }

HttpResponseMsg RestHandler::handle_http(const HttpRequest& request, const std::string& ip) {
  const std::string_view target(request.target().data(), request.target().size());
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  Params params;
  if (q != std::string_view::npos) parse_form(target.substr(q + 1), params);
  if (request.method() != http::verb::get && !request.body().empty()) parse_form(request.body(), params);

  Reply reply;
  std::int64_t used_weight = -1;
  const bool is_admin = path.rfind("/sim/admin/", 0) == 0;
  if (is_admin) {
    reply = request.method() == http::verb::post ? admin(path.substr(11), params)
                                                 : Reply{405, error_json(-1000, "Admin actions need POST."), 0};
  } else if (faults_.http_error_status != 0 &&
             (faults_.http_error_remaining > 0 || faults_.http_error_until_ms > mono_ms())) {
    // Fault switch: answer with the configured error whatever the request was.
    if (faults_.http_error_remaining > 0) --faults_.http_error_remaining;
    const auto status = static_cast<unsigned>(faults_.http_error_status);
    reply.status = status;
    reply.retry_after_s = (status == 429 || status == 418) ? faults_.retry_after_s : 0;
    reply.body = status == 429   ? error_json(-1003, "Too much request weight used; current limit is " + std::to_string(config_.weight_limit_1m) + " request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.")
                 : status == 418 ? error_json(-1003, "Way too much request weight used; IP banned until " + std::to_string(now_ms() + faults_.retry_after_s * 1000) + ". Please use WebSocket Streams for live updates to avoid bans.")
                                 : error_json(-1000, "An unknown error occured while processing the request.");
    if (faults_.http_error_remaining == 0 && faults_.http_error_until_ms <= mono_ms()) faults_.http_error_status = 0;
  } else {
    IpWindow& w = windows_[ip];
    const std::int64_t now = now_ms();
    const std::int64_t minute = now / 60'000;
    if (minute != w.minute) {
      w.minute = minute;
      w.used = 0;
      w.rejected = 0;
    }
    std::int64_t weight = 1;
    bool weight_known = false;
    if (w.banned_until_ms > now) {
      reply = Reply{418, error_json(-1003, "Way too much request weight used; IP banned until " + std::to_string(w.banned_until_ms) + ". Please use WebSocket Streams for live updates to avoid bans."),
                    (w.banned_until_ms - now + 999) / 1000};
    } else {
      // Weight is charged before the request runs, as Binance does; a request over the limit is refused.
      Reply pre = dispatch(request, path, params, weight, weight_known);  // weight_known=false: only sizes the weight
      (void)pre;
      w.used += weight;
      if (w.used > config_.weight_limit_1m) {
        ++w.rejected;
        const std::int64_t retry = (minute + 1) * 60'000 - now;
        if (w.rejected > config_.ban_after_429s) {
          // Kept going after 429s: Binance bans the IP (418) with a growing ban; here a fixed one.
          w.banned_until_ms = now + config_.ban_seconds * 1000;
          reply = Reply{418, error_json(-1003, "Way too much request weight used; IP banned until " + std::to_string(w.banned_until_ms) + ". Please use WebSocket Streams for live updates to avoid bans."),
                        config_.ban_seconds};
        } else {
          reply = Reply{429, error_json(-1003, "Too much request weight used; current limit is " + std::to_string(config_.weight_limit_1m) + " request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."),
                        (retry + 999) / 1000};
        }
      } else {
        weight_known = true;
        reply = dispatch(request, path, params, weight, weight_known);
      }
    }
    used_weight = w.used;
  }

  HttpResponseMsg response{static_cast<http::status>(reply.status), request.version()};
  response.set(http::field::server, "tradingbot-sim");
  response.set(http::field::content_type, "application/json;charset=UTF-8");
  if (used_weight >= 0) response.set("X-MBX-USED-WEIGHT-1M", std::to_string(used_weight));
  if (reply.retry_after_s > 0) response.set(http::field::retry_after, std::to_string(reply.retry_after_s));
  response.body() = std::move(reply.body);
  return response;
}

// With weight_known == false, only sets `weight` (from the parameters) and returns an empty reply.
RestHandler::Reply RestHandler::dispatch(const HttpRequest& request, std::string_view path, const Params& params,
                                         std::int64_t& weight, bool& weight_known) {
  const bool run = weight_known;
  const auto method = request.method();
  auto symbol_index = [&](Reply& error) -> std::optional<std::size_t> {
    const std::string* text = find_param(params, "symbol");
    if (text == nullptr || text->empty()) {
      error = Reply{400, missing("symbol"), 0};
      return std::nullopt;
    }
    auto symbol = Symbol::parse(*text);
    std::optional<std::size_t> index;
    if (symbol && symbol->view() == *text) index = market_.find(*symbol);
    if (!index) error = Reply{400, error_json(-1121, "Invalid symbol."), 0};
    return index;
  };
  // ticker endpoints: symbol | symbols=[...] | all.
  auto ticker = [&](std::int64_t single_weight, std::int64_t all_weight, auto&& render) -> Reply {
    const std::string* one = find_param(params, "symbol");
    const std::string* many = find_param(params, "symbols");
    if (one != nullptr && many != nullptr) return Reply{400, error_json(-1101, "Parameter 'symbol' and 'symbols' cannot be used together."), 0};
    if (one != nullptr) {
      weight = single_weight;
      if (!run) return {};
      Reply error;
      auto index = symbol_index(error);
      if (!index) return error;
      Reply ok;
      render(*index, ok.body);
      return ok;
    }
    std::vector<std::size_t> indexes;
    if (many != nullptr) {
      std::vector<std::string> names;
      if (!parse_symbol_array(*many, names)) return Reply{400, error_json(-1100, "Illegal characters found in parameter 'symbols'."), 0};
      weight = single_weight * static_cast<std::int64_t>(names.size());
      for (const auto& name : names) {
        auto symbol = Symbol::parse(name);
        auto index = symbol ? market_.find(*symbol) : std::nullopt;
        if (!index) return Reply{400, error_json(-1121, "Invalid symbol."), 0};
        indexes.push_back(*index);
      }
    } else {
      weight = all_weight;
      for (std::size_t i = 0; i < market_.symbol_count(); ++i) indexes.push_back(i);
    }
    if (!run) return {};
    Reply ok;
    ok.body = "[";
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      if (i != 0) ok.body += ',';
      render(indexes[i], ok.body);
    }
    ok.body += ']';
    return ok;
  };

  if (method == http::verb::get && path == "/api/v3/ping") {
    weight = 1;
    return Reply{200, "{}", 0};
  }
  if (method == http::verb::get && path == "/api/v3/time") {
    weight = 1;
    Reply ok;
    ok.body = R"({"serverTime":)";
    append_int(ok.body, now_ms());
    ok.body += '}';
    return ok;
  }
  if (method == http::verb::get && path == "/api/v3/exchangeInfo") {
    weight = 20;
    if (!run) return {};
    std::vector<std::size_t> indexes;
    const std::string* one = find_param(params, "symbol");
    const std::string* many = find_param(params, "symbols");
    std::vector<std::string> names;
    if (one != nullptr) names.push_back(*one);
    if (many != nullptr && !parse_symbol_array(*many, names)) return Reply{400, error_json(-1100, "Illegal characters found in parameter 'symbols'."), 0};
    for (const auto& name : names) {
      auto symbol = Symbol::parse(name);
      auto index = symbol ? market_.find(*symbol) : std::nullopt;
      if (!index) return Reply{400, error_json(-1121, "Invalid symbol."), 0};
      indexes.push_back(*index);
    }
    if (names.empty()) {
      for (std::size_t i = 0; i < market_.symbol_count(); ++i) indexes.push_back(i);
    }
    Reply ok;
    ok.body = R"({"timezone":"UTC","serverTime":)";
    append_int(ok.body, now_ms());
    ok.body += R"(,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":)";
    append_int(ok.body, config_.weight_limit_1m);
    ok.body += R"(},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50},)"
               R"({"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000},)"
               R"({"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":300000}],"exchangeFilters":[],"symbols":[)";
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      if (i != 0) ok.body += ',';
      market_.render_exchange_info_symbol(indexes[i], ok.body);
    }
    ok.body += "]}";
    return ok;
  }
  if (method == http::verb::get && path == "/api/v3/depth") {
    std::int64_t limit = 100;
    if (const std::string* text = find_param(params, "limit")) {
      if (!parse_uint(*text, limit)) return Reply{400, illegal_chars("limit"), 0};
      if (limit < 1 || limit > 5000) return Reply{400, error_json(-1100, "Illegal characters found in parameter 'limit'; legal range is '1 <= limit <= 5000'."), 0};
    }
    weight = depth_weight(limit);
    if (!run) return {};
    Reply error;
    auto index = symbol_index(error);
    if (!index) return error;
    Reply ok;
    market_.render_depth(*index, static_cast<std::size_t>(limit), ok.body);
    return ok;
  }
  if (method == http::verb::get && path == "/api/v3/ticker/bookTicker") {
    return ticker(2, 4, [&](std::size_t i, std::string& out) { market_.render_book_ticker(i, out); });
  }
  if (method == http::verb::get && path == "/api/v3/ticker/price") {
    return ticker(2, 4, [&](std::size_t i, std::string& out) { market_.render_price_ticker(i, out); });
  }
  if (method == http::verb::get && path == "/api/v3/klines") {
    weight = 2;
    if (!run) return {};
    Reply error;
    auto index = symbol_index(error);
    if (!index) return error;
    const std::string* interval_text = find_param(params, "interval");
    if (interval_text == nullptr || interval_text->empty()) return Reply{400, missing("interval"), 0};
    auto interval = parse_kline_interval(*interval_text);
    if (!interval) return Reply{400, error_json(-1120, "Invalid interval."), 0};
    std::int64_t limit = 500;
    std::int64_t start = 0;
    std::int64_t end = INT64_MAX;
    if (const std::string* t = find_param(params, "limit")) {
      if (!parse_uint(*t, limit)) return Reply{400, illegal_chars("limit"), 0};
      limit = std::clamp<std::int64_t>(limit, 1, 1000);
    }
    if (const std::string* t = find_param(params, "startTime"); t != nullptr && !parse_uint(*t, start)) return Reply{400, illegal_chars("startTime"), 0};
    if (const std::string* t = find_param(params, "endTime"); t != nullptr && !parse_uint(*t, end)) return Reply{400, illegal_chars("endTime"), 0};
    if (start > end) return Reply{400, error_json(-1127, "Lookup interval is too big."), 0};
    Reply ok;
    market_.render_klines(*index, *interval, start, end, static_cast<std::size_t>(limit), ok.body);
    return ok;
  }
  if (const auto signed_weight = SimAccounts::weight_of(method, path, params)) {
    weight = *signed_weight;
    if (!run) return {};
    const auto key = request.find("X-MBX-APIKEY");
    const std::string_view api_key = key == request.end() ? std::string_view() : std::string_view(key->value().data(), key->value().size());
    const std::string_view target(request.target().data(), request.target().size());
    const auto q = target.find('?');
    const std::string_view raw_query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    return accounts_.handle_rest(method, path, params, raw_query, request.body(), api_key, now_ms());
  }
  if (path.rfind("/api/v3/userDataStream", 0) == 0) {
    weight = 1;
    return Reply{410, "", 0};  // listenKey streams are gone (reference section 9)
  }
  weight = 1;
  if (path.rfind("/api/v3/", 0) == 0) return Reply{404, error_json(-1000, "Unknown endpoint or method."), 0};
  return Reply{404, error_json(-1000, "Not found."), 0};
}

// POST /sim/admin/<action>?params (README "tradingbot sim"): the fault switches.
RestHandler::Reply RestHandler::admin(std::string_view action, const Params& params) {
  auto integer = [&](std::string_view name, std::int64_t fallback, bool allow_negative = false) -> std::optional<std::int64_t> {
    const std::string* text = find_param(params, name);
    if (text == nullptr) return fallback;
    std::string_view v(*text);
    bool negative = false;
    if (allow_negative && !v.empty() && v.front() == '-') {
      negative = true;
      v.remove_prefix(1);
    }
    std::int64_t value = 0;
    if (!parse_uint(v, value)) return std::nullopt;
    return negative ? -value : value;
  };
  auto bad = [](std::string_view name) { return Reply{400, error_json(-1100, "Bad admin parameter '" + std::string(name) + "'."), 0}; };
  if (action == "drop") {
    const std::string* scope = find_param(params, "scope");
    const bool streams_only = scope != nullptr && *scope == "streams";
    if (admin_.drop_connections) admin_.drop_connections(streams_only);
    return Reply{200, R"({"ok":true})", 0};
  }
  if (action == "pause" || action == "resume") {
    if (admin_.pause_agents) admin_.pause_agents(action == "pause");
    return Reply{200, R"({"ok":true})", 0};
  }
  if (action == "shutdown-notice") {
    if (admin_.announce_shutdown) admin_.announce_shutdown();
    return Reply{200, R"({"ok":true})", 0};
  }
  if (action == "skip-depth-diff") {
    const std::string* text = find_param(params, "symbol");
    auto symbol = text != nullptr ? Symbol::parse(*text) : std::nullopt;
    auto index = symbol ? market_.find(*symbol) : std::nullopt;
    if (!index) return Reply{400, error_json(-1121, "Invalid symbol."), 0};
    market_.skip_next_diff(*index);
    return Reply{200, R"({"ok":true})", 0};
  }
  if (action == "silence") {
    auto seconds = integer("seconds", 5);
    if (!seconds) return bad("seconds");
    faults_.silent_until_ms = mono_ms() + *seconds * 1000;
    return Reply{200, R"({"ok":true})", 0};
  }
  if (action == "http-errors") {
    auto status = integer("status", 503);
    auto count = integer("count", 0);
    auto seconds = integer("seconds", 0);
    auto retry = integer("retry_after", 1);
    if (!status || (*status != 429 && *status != 418 && (*status < 500 || *status > 599))) return bad("status");
    if (!count || !seconds || (*count == 0 && *seconds == 0)) return bad("count");
    if (!retry) return bad("retry_after");
    faults_.http_error_status = *status;
    faults_.http_error_remaining = *count;
    faults_.http_error_until_ms = *seconds > 0 ? mono_ms() + *seconds * 1000 : 0;
    faults_.retry_after_s = *retry;
    return Reply{200, R"({"ok":true})", 0};
  }
  if (action == "clock-skew") {
    auto ms = integer("ms", 0, true);
    if (!ms) return bad("ms");
    faults_.clock_skew_ms = *ms;
    return Reply{200, R"({"ok":true})", 0};
  }
  if (action == "delay") {
    auto ms = integer("ms", 0);
    if (!ms) return bad("ms");
    faults_.response_delay_ms = *ms;
    return Reply{200, R"({"ok":true})", 0};
  }
  if (action == "reset") {
    faults_ = FaultSwitches{};
    faults_.clock_skew_ms = config_.clock_skew_ms;
    faults_.response_delay_ms = config_.response_delay_ms;
    windows_.clear();
    return Reply{200, R"({"ok":true})", 0};
  }
  return Reply{404, error_json(-1000, "Unknown admin action."), 0};
}

std::optional<SimReply> RestHandler::charge(const std::string& ip, std::int64_t weight, std::int64_t& used) {
  IpWindow& w = windows_[ip];
  const std::int64_t now = now_ms();
  const std::int64_t minute = now / 60'000;
  if (minute != w.minute) {
    w.minute = minute;
    w.used = 0;
    w.rejected = 0;
  }
  used = w.used;
  if (w.banned_until_ms > now) {
    return SimReply{418, error_json(-1003, "Way too much request weight used; IP banned until " + std::to_string(w.banned_until_ms) + ". Please use WebSocket Streams for live updates to avoid bans."),
                    w.banned_until_ms};
  }
  w.used += weight;
  used = w.used;
  if (w.used <= config_.weight_limit_1m) return std::nullopt;
  if (++w.rejected > config_.ban_after_429s) {
    w.banned_until_ms = now + config_.ban_seconds * 1000;
    return SimReply{418, error_json(-1003, "Way too much request weight used; IP banned until " + std::to_string(w.banned_until_ms) + ". Please use WebSocket Streams for live updates to avoid bans."),
                    w.banned_until_ms};
  }
  return SimReply{429, error_json(-1003, "Too much request weight used; current limit is " + std::to_string(config_.weight_limit_1m) + " request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."),
                  (minute + 1) * 60'000};
}

// WS API (reference section 10): {"id":..,"method":..,"params":{..}} -> {"id","status","result"|"error","rateLimits"}.
// Signed methods verify the signature over the params except `signature`, sorted by name, as
// raw `k=v` joined with '&'. 429/418 errors carry data.retryAfter as an epoch-ms timestamp.
void RestHandler::handle_ws_api(const std::string& text, WsSession& session) {
  std::string id_json = "null";
  std::string method;
  Params params;
  {
    simdjson::ondemand::parser parser;
    simdjson::padded_string padded(text);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object object;
    bool ok = !parser.iterate(padded).get(doc) && !doc.get_object().get(object);
    if (ok) {
      for (auto field : object) {
        std::string_view key;
        simdjson::ondemand::value value;
        if (field.unescaped_key().get(key) || field.value().get(value)) {
          ok = false;
          break;
        }
        if (key == "id") {
          std::string_view raw;
          if (simdjson::to_json_string(value).get(raw)) {
            ok = false;
            break;
          }
          id_json = std::string(raw);
        } else if (key == "method") {
          std::string_view m;
          if (value.get_string().get(m)) {
            ok = false;
            break;
          }
          method = std::string(m);
        } else if (key == "params") {
          simdjson::ondemand::object p;
          if (value.get_object().get(p)) {
            ok = false;
            break;
          }
          for (auto param : p) {
            std::string_view name;
            simdjson::ondemand::value v;
            if (param.unescaped_key().get(name) || param.value().get(v)) {
              ok = false;
              break;
            }
            simdjson::ondemand::json_type type;
            if (v.type().get(type)) {
              ok = false;
              break;
            }
            std::string_view sv;
            if (type == simdjson::ondemand::json_type::string) {
              if (v.get_string().get(sv)) {
                ok = false;
                break;
              }
              params.emplace_back(std::string(name), std::string(sv));
            } else if (type == simdjson::ondemand::json_type::number || type == simdjson::ondemand::json_type::boolean) {
              if (simdjson::to_json_string(v).get(sv)) {
                ok = false;
                break;
              }
              params.emplace_back(std::string(name), std::string(sv));
            } else {
              ok = false;
              break;
            }
          }
        }
      }
    }
    if (!ok || method.empty()) {
      send_text(session, R"({"id":)" + id_json + R"(,"status":400,"error":{"code":-1000,"msg":"Malformed request."}})");
      return;
    }
  }
  if (method.rfind("v3/", 0) == 0) method.erase(0, 3);

  struct Route {
    std::string_view method;
    http::verb verb;
    std::string_view path;
    std::int64_t weight;
  };
  static constexpr Route kRoutes[] = {
      {"ping", http::verb::get, "", 1},
      {"time", http::verb::get, "", 1},
      {"order.place", http::verb::post, "/api/v3/order", 1},
      {"order.test", http::verb::post, "/api/v3/order/test", 1},
      {"order.cancel", http::verb::delete_, "/api/v3/order", 1},
      {"order.status", http::verb::get, "/api/v3/order", 4},
      {"openOrders.status", http::verb::get, "/api/v3/openOrders", 6},
      {"account.status", http::verb::get, "/api/v3/account", 20},
      {"userDataStream.subscribe.signature", http::verb::post, "", 2},
  };
  const Route* route = nullptr;
  for (const Route& r : kRoutes) {
    if (r.method == method) route = &r;
  }
  std::int64_t weight = route != nullptr ? route->weight : 1;
  if (route != nullptr && route->method == "openOrders.status" && find_param(params, "symbol") == nullptr) weight = 80;
  std::int64_t used = 0;
  auto rate_limits = [&] {
    return R"(,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":)" +
           std::to_string(config_.weight_limit_1m) + R"(,"count":)" + std::to_string(used) + "}]";
  };
  const std::string* return_limits = find_param(params, "returnRateLimits");
  const bool with_limits = return_limits == nullptr || *return_limits != "false";
  auto answer = [&](const SimReply& reply) {
    std::string out = R"({"id":)" + id_json + R"(,"status":)" + std::to_string(reply.status);
    if (reply.status == 200) {
      out += R"(,"result":)" + reply.body;
    } else if (reply.status == 429 || reply.status == 418) {
      // The REST body minus its closing brace, plus data.retryAfter (epoch ms on the WS API).
      out += R"(,"error":)" + reply.body.substr(0, reply.body.size() - 1) + R"(,"data":{"retryAfter":)" +
             std::to_string(reply.retry_after_s) + "}}";
    } else {
      out += R"(,"error":)" + reply.body;
    }
    if (with_limits) out += rate_limits();
    out += '}';
    send_text(session, std::move(out));
  };
  if (auto limited = charge(session_ip(session), weight, used)) return answer(*limited);
  if (route == nullptr) return answer(SimReply{400, error_json(-1000, "Unknown method '" + method + "'."), 0});
  if (route->method == "ping") return answer(SimReply{200, "{}", 0});
  if (route->method == "time") {
    std::string body = R"({"serverTime":)";
    append_int(body, now_ms());
    return answer(SimReply{200, body + "}", 0});
  }
  // Signed: payload = every param except signature, sorted by name, raw values.
  Params sorted;
  for (const auto& p : params) {
    if (p.first != "signature") sorted.push_back(p);
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string payload;
  for (const auto& [k, v] : sorted) {
    if (!payload.empty()) payload += '&';
    payload += k;
    payload += '=';
    payload += v;
  }
  const std::string* api_key = find_param(params, "apiKey");
  if (api_key == nullptr || api_key->empty()) {
    return answer(SimReply{400, error_json(-1102, "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed."), 0});
  }
  std::size_t account = 0;
  if (auto error = accounts_.authenticate(params, payload, *api_key, now_ms(), account)) return answer(*error);
  if (route->method == "userDataStream.subscribe.signature") {
    if (session_has_user_subscription(session, account)) {
      return answer(SimReply{400, error_json(-2035, "User Data Stream subscription already active."), 0});
    }
    std::string body = R"({"subscriptionId":)";
    append_int(body, add_user_subscription(session, account));
    return answer(SimReply{200, body + "}", 0});
  }
  answer(accounts_.execute(account, route->verb, route->path, params, now_ms()));
}

}  // namespace tb::sim

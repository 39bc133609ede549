#include "sim_accounts.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tradingbot/exchange/binance/signer.hpp"

namespace tb::sim {
namespace http = boost::beast::http;

namespace {

constexpr book::AccountId kFirstUserAccount = 100;
constexpr std::int64_t kMaxRecvWindowMs = 60'000;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};

SimReply fail(unsigned status, int code, std::string_view msg) { return SimReply{status, error_json(code, msg), 0}; }
SimReply missing(std::string_view name) {
  return fail(400, -1102, "Mandatory parameter '" + std::string(name) + "' was not sent, was empty/null, or malformed.");
}

// Removes the `signature=...` pair from a raw parameter string; returns whether one was there.
bool strip_signature(std::string_view raw, std::string& out) {
  out.clear();
  bool found = false;
  std::size_t start = 0;
  while (start <= raw.size()) {
    const auto amp = raw.find('&', start);
    const std::string_view pair = raw.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (pair.rfind("signature=", 0) == 0) {
      found = true;
    } else if (!pair.empty()) {
      if (!out.empty()) out += '&';
      out += pair;
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return found;
}

bool decimal_syntax(std::string_view text) {
  // Binance: ^([0-9]{1,20})(\.[0-9]{1,20})?$
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  if (whole.empty() || whole.size() > 20 || !std::all_of(whole.begin(), whole.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  if (dot == std::string_view::npos) return true;
  const std::string_view frac = text.substr(dot + 1);
  return !frac.empty() && frac.size() <= 20 && std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_uint(std::string_view text, std::int64_t& out) {
  if (text.empty() || text.size() > 18) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  std::from_chars(text.data(), text.data() + text.size(), out);
  return true;
}

void append_str(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += R"(":")";
  out += value;
  out += '"';
}
void append_num(std::string& out, std::string_view key, std::int64_t value) {
  out += '"';
  out += key;
  out += R"(":)";
  append_int(out, value);
}
void append_dec(std::string& out, std::string_view key, std::int64_t raw) {
  out += '"';
  out += key;
  out += R"(":)";
  append_decimal_string(out, raw);
}

std::int64_t bps_of(std::int64_t raw, std::int64_t bps) {
  return static_cast<std::int64_t>(static_cast<Int128>(raw) * bps / 10'000);
}

}  // namespace

struct SimAccounts::Impl {
  struct Balance {
    std::int64_t free = 0;
    std::int64_t locked = 0;
  };
  struct Account {
    const SimApiKeyConfig* key;
    book::AccountId engine_id;
    std::unique_ptr<binance::HmacSha256Signer> hmac;
    std::unique_ptr<EVP_PKEY, PkeyFree> ed25519;
    std::map<std::string, Balance, std::less<>> balances;
    std::int64_t update_time = 0;
  };
  struct Fill {
    std::int64_t price, qty, commission;
    std::string asset;
    std::uint64_t trade_id;
  };
  struct Order {
    std::size_t symbol;
    std::size_t account;
    book::OrderId id;
    std::string client_id;
    Side side;
    book::OrderType type;
    book::TimeInForce tif;
    std::int64_t price = 0;
    std::int64_t orig_qty = 0;
    std::int64_t orig_quote = 0;
    std::int64_t executed = 0;
    std::int64_t cum_quote = 0;
    std::int64_t locked = 0;  // still locked for this order (quote for BUY, base for SELL)
    book::OrderStatus status = book::OrderStatus::New;
    std::int64_t time = 0;
    std::int64_t update_time = 0;
    std::vector<Fill> fills;  // fills of the request being answered (taker side)
  };
  // What the request being executed wants recorded when the engine accepts it.
  struct Pending {
    std::size_t account;
    std::string client_id;
    book::TimeInForce tif;
    std::int64_t lock;
    std::int64_t orig_quote;
    std::int64_t now_ms;
  };

  const SimConfig& config;
  SimMarket& market;
  std::vector<Account> accounts;
  std::map<std::pair<std::size_t, book::OrderId>, Order> orders;
  // Every fill of every account, oldest first, for GET /api/v3/myTrades (reconciliation after a
  // restart or a user-data gap). Bounded: the oldest records go first beyond kMaxTradeLog.
  struct TradeRecord {
    std::size_t account;
    std::size_t symbol;
    std::uint64_t trade_id;
    book::OrderId order_id;
    std::int64_t price, qty, quote, commission;
    std::string commission_asset;
    std::int64_t time;
    bool buyer, maker;
  };
  static constexpr std::size_t kMaxTradeLog = 100'000;
  std::deque<TradeRecord> trade_log;
  std::optional<Pending> pending;
  std::int64_t now_ms = 0;
  std::uint64_t generated_ids = 0;
  std::uint64_t execution_ids = 0;
  std::function<void(std::size_t, const std::string&)> user_sink;
  std::string cancel_client_id;  // the cancel request's client id while a cancel runs

  // executionReport (reference section 9) for `o` after an execution of type `x`.
  void report(const Order& o, std::string_view x, std::int64_t last_qty, std::int64_t last_price, std::int64_t commission,
              std::string_view commission_asset, std::int64_t trade_id, bool maker, std::int64_t time) {
    if (!user_sink) return;
    const auto& sym = market.symbol_config(o.symbol);
    std::string e = R"({"e":"executionReport",)";
    append_num(e, "E", time);
    e += ',';
    append_str(e, "s", sym.symbol.view());
    e += ',';
    const bool canceled = x == "CANCELED";
    append_str(e, "c", canceled && !cancel_client_id.empty() ? std::string_view(cancel_client_id) : std::string_view(o.client_id));
    e += ',';
    append_str(e, "S", o.side == Side::Buy ? "BUY" : "SELL");
    e += ',';
    append_str(e, "o", tb::to_string(o.type));
    e += ',';
    append_str(e, "f", tb::to_string(o.tif));
    e += ',';
    append_dec(e, "q", o.orig_qty);
    e += ',';
    append_dec(e, "p", o.price);
    e += R"(,"P":"0.00000000","F":"0.00000000","g":-1,)";
    append_str(e, "C", canceled ? std::string_view(o.client_id) : std::string_view());
    e += ',';
    append_str(e, "x", x);
    e += ',';
    append_str(e, "X", book::to_string(o.status));
    e += R"(,"r":"NONE",)";
    append_num(e, "i", static_cast<std::int64_t>(o.id));
    e += ',';
    append_dec(e, "l", last_qty);
    e += ',';
    append_dec(e, "z", o.executed);
    e += ',';
    append_dec(e, "L", last_price);
    e += ',';
    append_dec(e, "n", commission);
    e += R"(,"N":)";
    if (commission_asset.empty()) {
      e += "null";
    } else {
      e += '"';
      e += commission_asset;
      e += '"';
    }
    e += ',';
    append_num(e, "T", time);
    e += ',';
    append_num(e, "t", trade_id);
    e += ',';
    append_num(e, "I", static_cast<std::int64_t>(++execution_ids));
    e += open(o) ? R"(,"w":true,)" : R"(,"w":false,)";
    e += maker ? R"("m":true,"M":false,)" : R"("m":false,"M":false,)";
    append_num(e, "O", o.time);
    e += ',';
    append_dec(e, "Z", o.cum_quote);
    e += ',';
    append_dec(e, "Y", notional(Price::from_raw(last_price), Qty::from_raw(last_qty)).raw());
    e += ',';
    append_dec(e, "Q", o.orig_quote);
    e += ',';
    append_num(e, "W", o.time);
    e += R"(,"V":"EXPIRE_MAKER"})";
    user_sink(o.account, e);
  }

  // outboundAccountPosition with the symbol's two assets.
  void position(std::size_t account_index, std::size_t symbol, std::int64_t time) {
    if (!user_sink) return;
    const auto& sym = market.symbol_config(symbol);
    Account& a = accounts[account_index];
    std::string e = R"({"e":"outboundAccountPosition",)";
    append_num(e, "E", time);
    e += ',';
    append_num(e, "u", time);
    e += R"(,"B":[)";
    bool first = true;
    for (const std::string* asset : {&sym.base_asset, &sym.quote_asset}) {
      const Balance& b = balance(a, *asset);
      if (!first) e += ',';
      first = false;
      e += '{';
      append_str(e, "a", *asset);
      e += ',';
      append_dec(e, "f", b.free);
      e += ',';
      append_dec(e, "l", b.locked);
      e += '}';
    }
    e += "]}";
    user_sink(account_index, e);
  }

  Impl(const SimConfig& c, SimMarket& m) : config(c), market(m) {}

  Balance& balance(Account& a, std::string_view asset) {
    auto it = a.balances.find(asset);
    if (it == a.balances.end()) it = a.balances.emplace(std::string(asset), Balance{}).first;
    return it->second;
  }
  [[nodiscard]] std::optional<std::size_t> account_of(book::AccountId id) const {
    if (id < kFirstUserAccount || id - kFirstUserAccount >= accounts.size()) return std::nullopt;
    return static_cast<std::size_t>(id - kFirstUserAccount);
  }
  const std::string& locked_asset(const Order& o) const {
    const auto& s = market.symbol_config(o.symbol);
    return o.side == Side::Buy ? s.quote_asset : s.base_asset;
  }
  void release(Order& o) {
    if (o.locked == 0) return;
    Balance& b = balance(accounts[o.account], locked_asset(o));
    b.locked -= o.locked;
    b.free += o.locked;
    o.locked = 0;
  }
  [[nodiscard]] bool open(const Order& o) const {
    return o.status == book::OrderStatus::New || o.status == book::OrderStatus::PartiallyFilled;
  }

  // --- rendering (Binance's documented shapes) ------------------------------------------------
  void render_order_common(const Order& o, std::string& out) const {
    append_dec(out, "price", o.price);
    out += ',';
    append_dec(out, "origQty", o.orig_qty);
    out += ',';
    append_dec(out, "executedQty", o.executed);
    out += ',';
    append_dec(out, "origQuoteOrderQty", o.orig_quote);
    out += ',';
    append_dec(out, "cummulativeQuoteQty", o.cum_quote);
    out += ',';
    append_str(out, "status", book::to_string(o.status));
    out += ',';
    append_str(out, "timeInForce", tb::to_string(o.tif));
    out += ',';
    append_str(out, "type", tb::to_string(o.type));
    out += ',';
    append_str(out, "side", o.side == Side::Buy ? "BUY" : "SELL");
  }
  void render_head(const Order& o, std::string& out) const {
    append_str(out, "symbol", market.symbol_config(o.symbol).symbol.view());
    out += ',';
    append_num(out, "orderId", static_cast<std::int64_t>(o.id));
    out += R"(,"orderListId":-1,)";
  }
  void render_query(const Order& o, std::string& out) const {
    out += '{';
    render_head(o, out);
    append_str(out, "clientOrderId", o.client_id);
    out += ',';
    render_order_common(o, out);
    out += R"(,"stopPrice":"0.00000000","icebergQty":"0.00000000",)";
    append_num(out, "time", o.time);
    out += ',';
    append_num(out, "updateTime", o.update_time);
    out += open(o) ? R"(,"isWorking":true,)" : R"(,"isWorking":false,)";
    append_num(out, "workingTime", o.time);
    out += R"(,"selfTradePreventionMode":"EXPIRE_MAKER"})";
  }
};

SimAccounts::SimAccounts(const SimConfig& config, SimMarket& market) : impl_(std::make_unique<Impl>(config, market)) {
  market.set_trade_observer(this);
  for (std::size_t i = 0; i < config.api_keys.size(); ++i) {
    const SimApiKeyConfig& key = config.api_keys[i];
    Impl::Account account;
    account.key = &key;
    account.engine_id = kFirstUserAccount + i;
    if (key.kind == KeyKind::Hmac) {
      account.hmac = std::make_unique<binance::HmacSha256Signer>(key.secret);
    } else {
      std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(key.public_key_file.c_str(), "r"), &BIO_free);
      EVP_PKEY* pkey = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
      if (pkey == nullptr || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        load_error_ = "sim.api_keys[" + std::to_string(i) + "].ed25519_public_key_file = " + key.public_key_file +
                      ": not an Ed25519 public key in PEM (\"-----BEGIN PUBLIC KEY-----\")";
        return;
      }
      account.ed25519.reset(pkey);
    }
    for (const auto& [asset, amount] : key.balances) account.balances[asset] = Impl::Balance{amount.raw(), 0};
    impl_->accounts.push_back(std::move(account));
  }
}
SimAccounts::~SimAccounts() = default;

void SimAccounts::set_user_event_sink(std::function<void(std::size_t, const std::string&)> sink) {
  impl_->user_sink = std::move(sink);
}
std::size_t SimAccounts::account_count() const noexcept { return impl_->accounts.size(); }

std::optional<std::int64_t> SimAccounts::weight_of(http::verb method, std::string_view path, const Params& params) {
  if (path == "/api/v3/order") {
    if (method == http::verb::post || method == http::verb::delete_) return 1;
    if (method == http::verb::get) return 4;
  }
  if (path == "/api/v3/order/test" && method == http::verb::post) return find_param(params, "computeCommissionRates") ? 20 : 1;
  if (path == "/api/v3/openOrders" && method == http::verb::get) return find_param(params, "symbol") ? 6 : 80;
  if (path == "/api/v3/account" && method == http::verb::get) return 20;
  if (path == "/api/v3/myTrades" && method == http::verb::get) return find_param(params, "orderId") ? 5 : 20;
  return std::nullopt;
}

SimReply SimAccounts::handle_rest(http::verb method, std::string_view path, const Params& params, std::string_view raw_query,
                                  std::string_view raw_body, std::string_view api_key, std::int64_t now_ms) {
  // The signature covers exactly the bytes sent: query string, then body, without separator.
  std::string signed_query;
  std::string signed_body;
  strip_signature(raw_query, signed_query);
  strip_signature(raw_body, signed_body);
  std::size_t account_index = 0;
  if (auto error = authenticate(params, signed_query + signed_body, api_key, now_ms, account_index)) return *error;
  return execute(account_index, method, path, params, now_ms);
}

std::optional<SimReply> SimAccounts::authenticate(const Params& params, const std::string& payload, std::string_view api_key,
                                                  std::int64_t now_ms, std::size_t& account_out) {
  Impl& s = *impl_;
  // 1. API key.
  if (api_key.empty()) return fail(401, -2014, "API-key format invalid.");
  std::size_t account_index = s.accounts.size();
  for (std::size_t i = 0; i < s.accounts.size(); ++i) {
    if (s.accounts[i].key->api_key == api_key) account_index = i;
  }
  if (account_index == s.accounts.size()) return fail(401, -2015, "Invalid API-key, IP, or permissions for action.");
  Impl::Account& account = s.accounts[account_index];
  // 2. Timestamp and recvWindow.
  const std::string* timestamp_text = find_param(params, "timestamp");
  if (timestamp_text == nullptr || timestamp_text->empty()) return missing("timestamp");
  std::int64_t timestamp = 0;
  if (!parse_uint(*timestamp_text, timestamp)) return fail(400, -1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.");
  if (timestamp > 100'000'000'000'000) timestamp /= 1000;  // microseconds are accepted too
  std::int64_t recv_window = 5000;
  if (const std::string* w = find_param(params, "recvWindow")) {
    if (!parse_uint(*w, recv_window)) return fail(400, -1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'.");
    if (recv_window > kMaxRecvWindowMs) return fail(400, -1131, "recvWindow must be less than 60000");
  }
  // 3. Signature.
  const std::string* signature = find_param(params, "signature");
  if (signature == nullptr || signature->empty()) return missing("signature");
  bool valid = false;
  if (account.hmac) {
    binance::SignatureText expected;
    account.hmac->sign(payload, expected);
    valid = signature->size() == expected.size &&
            std::equal(signature->begin(), signature->end(), expected.view().begin(),
                       [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  } else {
    unsigned char raw[96];
    if (signature->size() == 88) {
      const int n = EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(signature->data()), 88);
      if (n == 66) {  // 64 bytes + 2 padding bytes counted by EVP_DecodeBlock
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
        valid = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, account.ed25519.get()) == 1 &&
                EVP_DigestVerify(ctx.get(), raw, 64, reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) == 1;
      }
    }
  }
  if (!valid) return fail(400, -1022, "Signature for this request is not valid.");
  if (timestamp > now_ms + 1000) return fail(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");
  if (now_ms - timestamp > recv_window) return fail(400, -1021, "Timestamp for this request is outside of the recvWindow.");
  account_out = account_index;
  return std::nullopt;
}

SimReply SimAccounts::execute(std::size_t account_index, http::verb method, std::string_view path, const Params& params,
                              std::int64_t now_ms) {
  Impl& s = *impl_;
  s.now_ms = now_ms;
  Impl::Account& account = s.accounts[account_index];
  // The endpoint.
  auto symbol_index = [&](SimReply& error) -> std::optional<std::size_t> {
    const std::string* text = find_param(params, "symbol");
    if (text == nullptr || text->empty()) {
      error = missing("symbol");
      return std::nullopt;
    }
    auto symbol = Symbol::parse(*text);
    auto index = symbol && symbol->view() == *text ? s.market.find(*symbol) : std::nullopt;
    if (!index) error = fail(400, -1121, "Invalid symbol.");
    return index;
  };

  if (path == "/api/v3/account") {
    SimReply ok;
    std::string& out = ok.body;
    const std::int64_t maker = s.config.maker_commission_bps;
    const std::int64_t taker = s.config.taker_commission_bps;
    out = "{";
    append_num(out, "makerCommission", maker);
    out += ',';
    append_num(out, "takerCommission", taker);
    out += R"(,"buyerCommission":0,"sellerCommission":0,"commissionRates":{)";
    append_dec(out, "maker", maker * 10'000);
    out += ',';
    append_dec(out, "taker", taker * 10'000);
    out += R"(,"buyer":"0.00000000","seller":"0.00000000"},"canTrade":true,"canWithdraw":true,"canDeposit":true,)"
           R"("brokered":false,"requireSelfTradePrevention":false,"preventSor":false,)";
    append_num(out, "updateTime", account.update_time);
    out += R"(,"accountType":"SPOT","balances":[)";
    const std::string* omit = find_param(params, "omitZeroBalances");
    const bool omit_zero = omit != nullptr && *omit == "true";
    bool first = true;
    for (const auto& [asset, b] : account.balances) {
      if (omit_zero && b.free == 0 && b.locked == 0) continue;
      if (!first) out += ',';
      first = false;
      out += '{';
      append_str(out, "asset", asset);
      out += ',';
      append_dec(out, "free", b.free);
      out += ',';
      append_dec(out, "locked", b.locked);
      out += '}';
    }
    out += R"(],"permissions":["SPOT"],)";
    append_num(out, "uid", static_cast<std::int64_t>(account.engine_id));
    out += '}';
    return ok;
  }

  if (path == "/api/v3/openOrders") {
    std::optional<std::size_t> only;
    if (find_param(params, "symbol") != nullptr) {
      SimReply error;
      only = symbol_index(error);
      if (!only) return error;
    }
    SimReply ok;
    ok.body = "[";
    bool first = true;
    for (const auto& [key, o] : s.orders) {
      if (o.account != account_index || !s.open(o) || (only && o.symbol != *only)) continue;
      if (!first) ok.body += ',';
      first = false;
      s.render_query(o, ok.body);
    }
    ok.body += ']';
    return ok;
  }

  SimReply error;
  const auto index = symbol_index(error);
  if (!index) return error;
  const SimSymbolConfig& sym = s.market.symbol_config(*index);

  // GET /api/v3/myTrades?symbol&orderId&startTime&endTime&fromId&limit (default 500, max 1000):
  // the account's trades on `symbol`, oldest first. With fromId: trades with id >= fromId.
  if (path == "/api/v3/myTrades") {
    std::int64_t limit = 500;
    std::int64_t start = 0;
    std::int64_t end = INT64_MAX;
    std::int64_t from_id = -1;
    std::int64_t order_id = -1;
    if (const std::string* t = find_param(params, "limit")) {
      if (!parse_uint(*t, limit)) return fail(400, -1100, "Illegal characters found in parameter 'limit'.");
      limit = std::clamp<std::int64_t>(limit, 1, 1000);
    }
    if (const std::string* t = find_param(params, "startTime"); t != nullptr && !parse_uint(*t, start))
      return fail(400, -1100, "Illegal characters found in parameter 'startTime'.");
    if (const std::string* t = find_param(params, "endTime"); t != nullptr && !parse_uint(*t, end))
      return fail(400, -1100, "Illegal characters found in parameter 'endTime'.");
    if (const std::string* t = find_param(params, "fromId"); t != nullptr && !parse_uint(*t, from_id))
      return fail(400, -1100, "Illegal characters found in parameter 'fromId'.");
    if (const std::string* t = find_param(params, "orderId"); t != nullptr && !parse_uint(*t, order_id))
      return fail(400, -1100, "Illegal characters found in parameter 'orderId'.");
    if (start > end) return fail(400, -1127, "More than 24 hours between startTime and endTime.");
    SimReply ok;
    ok.body = "[";
    std::int64_t n = 0;
    for (const auto& t : s.trade_log) {
      if (n >= limit) break;
      if (t.account != account_index || t.symbol != *index) continue;
      if (order_id >= 0 && t.order_id != static_cast<book::OrderId>(order_id)) continue;
      if (from_id >= 0 ? static_cast<std::int64_t>(t.trade_id) < from_id : (t.time < start || t.time > end)) continue;
      if (n++ > 0) ok.body += ',';
      ok.body += '{';
      append_str(ok.body, "symbol", sym.symbol.view());
      ok.body += ',';
      append_num(ok.body, "id", static_cast<std::int64_t>(t.trade_id));
      ok.body += ',';
      append_num(ok.body, "orderId", static_cast<std::int64_t>(t.order_id));
      ok.body += R"(,"orderListId":-1,)";
      append_dec(ok.body, "price", t.price);
      ok.body += ',';
      append_dec(ok.body, "qty", t.qty);
      ok.body += ',';
      append_dec(ok.body, "quoteQty", t.quote);
      ok.body += ',';
      append_dec(ok.body, "commission", t.commission);
      ok.body += ',';
      append_str(ok.body, "commissionAsset", t.commission_asset);
      ok.body += ',';
      append_num(ok.body, "time", t.time);
      ok.body += t.buyer ? R"(,"isBuyer":true)" : R"(,"isBuyer":false)";
      ok.body += t.maker ? R"(,"isMaker":true)" : R"(,"isMaker":false)";
      ok.body += R"(,"isBestMatch":true})";
    }
    ok.body += ']';
    return ok;
  }

  if (path == "/api/v3/order" && (method == http::verb::get || method == http::verb::delete_)) {
    const std::string* id_text = find_param(params, "orderId");
    const std::string* client_text = find_param(params, "origClientOrderId");
    if (id_text == nullptr && client_text == nullptr) return fail(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
    Impl::Order* found = nullptr;
    std::int64_t id = 0;
    if (id_text != nullptr && !parse_uint(*id_text, id)) return fail(400, -1100, "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'.");
    for (auto& [key, o] : s.orders) {
      if (o.account != account_index || o.symbol != *index) continue;
      if (id_text != nullptr && o.id != static_cast<book::OrderId>(id)) continue;
      if (id_text == nullptr && o.client_id != *client_text) continue;
      if (id_text == nullptr && !s.open(o) && found != nullptr) continue;  // prefer the latest open one
      found = &o;
    }
    if (found != nullptr && id_text != nullptr && client_text != nullptr && found->client_id != *client_text) {
      return fail(400, -2039, "Client order id is not valid.");
    }
    if (method == http::verb::get) {
      if (found == nullptr) return fail(400, -2013, "Order does not exist.");
      SimReply ok;
      s.render_query(*found, ok.body);
      return ok;
    }
    if (found == nullptr || !s.open(*found)) return fail(400, -2011, "Unknown order sent.");
    const std::string orig_client = found->client_id;
    const book::OrderId order_id = found->id;
    std::string new_client;
    if (const std::string* n = find_param(params, "newClientOrderId")) new_client = *n;
    if (new_client.empty()) new_client = "sim-cancel-" + std::to_string(++s.generated_ids);
    s.cancel_client_id = new_client;
    const auto cancel_result = s.market.engine(*index).cancel(account.engine_id, order_id, now_ms * 1'000'000);
    s.cancel_client_id.clear();
    if (cancel_result != book::RejectReason::None) return fail(400, -2011, "Unknown order sent.");
    s.market.after_user_request(*index, now_ms);
    const Impl::Order& o = s.orders.at({*index, order_id});
    SimReply ok;
    ok.body = "{";
    append_str(ok.body, "symbol", sym.symbol.view());
    ok.body += ',';
    append_str(ok.body, "origClientOrderId", orig_client);
    ok.body += ',';
    append_num(ok.body, "orderId", static_cast<std::int64_t>(order_id));
    ok.body += R"(,"orderListId":-1,)";
    append_str(ok.body, "clientOrderId", new_client);
    ok.body += ',';
    append_num(ok.body, "transactTime", now_ms);
    ok.body += ',';
    s.render_order_common(o, ok.body);
    ok.body += R"(,"selfTradePreventionMode":"EXPIRE_MAKER"})";
    return ok;
  }

  // POST /api/v3/order and /api/v3/order/test.
  const bool test_only = path == "/api/v3/order/test";
  const std::string* side_text = find_param(params, "side");
  const std::string* type_text = find_param(params, "type");
  if (side_text == nullptr || side_text->empty()) return missing("side");
  if (type_text == nullptr || type_text->empty()) return missing("type");
  if (*side_text != "BUY" && *side_text != "SELL") return fail(400, -1117, "Invalid side.");
  book::NewOrder order;
  order.account = account.engine_id;
  order.side = *side_text == "BUY" ? Side::Buy : Side::Sell;
  order.stp = book::StpMode::ExpireMaker;
  if (*type_text == "LIMIT") {
    order.type = book::OrderType::Limit;
  } else if (*type_text == "MARKET") {
    order.type = book::OrderType::Market;
  } else if (*type_text == "LIMIT_MAKER") {
    order.type = book::OrderType::LimitMaker;
  } else {
    return fail(400, -1116, "Invalid orderType.");
  }
  auto decimal = [&](std::string_view name, std::int64_t& out) -> std::optional<SimReply> {
    const std::string* text = find_param(params, name);
    if (text == nullptr || text->empty()) return missing(name);
    if (!decimal_syntax(*text)) {
      return fail(400, -1100, "Illegal characters found in parameter '" + std::string(name) + "'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.");
    }
    if (!parse_fixed(*text, out)) return fail(400, -1111, "Parameter '" + std::string(name) + "' has too much precision.");
    return std::nullopt;
  };
  std::int64_t price = 0;
  std::int64_t qty = 0;
  std::int64_t quote_qty = 0;
  if (order.type == book::OrderType::Limit) {
    const std::string* tif = find_param(params, "timeInForce");
    if (tif == nullptr || tif->empty()) return missing("timeInForce");
    if (*tif == "GTC") {
      order.time_in_force = book::TimeInForce::Gtc;
    } else if (*tif == "IOC") {
      order.time_in_force = book::TimeInForce::Ioc;
    } else if (*tif == "FOK") {
      order.time_in_force = book::TimeInForce::Fok;
    } else {
      return fail(400, -1115, "Invalid timeInForce.");
    }
  }
  if (order.type != book::OrderType::Market) {
    if (auto e = decimal("quantity", qty)) return *e;
    if (auto e = decimal("price", price)) return *e;
  } else {
    const bool has_qty = find_param(params, "quantity") != nullptr;
    const bool has_quote = find_param(params, "quoteOrderQty") != nullptr;
    if (has_qty == has_quote) return fail(400, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!");
    if (has_qty) {
      if (auto e = decimal("quantity", qty)) return *e;
    } else if (auto e = decimal("quoteOrderQty", quote_qty)) {
      return *e;
    }
  }
  std::string client_id;
  if (const std::string* c = find_param(params, "newClientOrderId"); c != nullptr && !c->empty()) {
    if (!book::valid_client_order_id(*c)) {
      return fail(400, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.");
    }
    client_id = *c;
  }
  // Filters, checked in Binance's order and reported with its message.
  if (order.type != book::OrderType::Market) {
    if (price < sym.min_price.raw() || (!sym.max_price.is_zero() && price > sym.max_price.raw()) || price % sym.tick_size.raw() != 0) {
      return fail(400, -1013, "Filter failure: PRICE_FILTER");
    }
  }
  if (qty != 0 && (qty < sym.min_qty.raw() || (!sym.max_qty.is_zero() && qty > sym.max_qty.raw()) || qty % sym.step_size.raw() != 0)) {
    return fail(400, -1013, order.type == book::OrderType::Market ? "Filter failure: MARKET_LOT_SIZE" : "Filter failure: LOT_SIZE");
  }
  const auto best_ask = s.market.engine(*index).best(Side::Sell);
  const auto best_bid = s.market.engine(*index).best(Side::Buy);
  const std::int64_t reference = order.type == book::OrderType::Market ? s.market.last_price(*index).raw() : price;
  const std::int64_t notional_value = quote_qty != 0 ? quote_qty : notional(Price::from_raw(reference), Qty::from_raw(qty)).raw();
  if (notional_value < sym.min_notional.raw()) return fail(400, -1013, "Filter failure: NOTIONAL");
  if (order.type == book::OrderType::LimitMaker &&
      ((order.side == Side::Buy && best_ask && price >= best_ask->price.raw()) ||
       (order.side == Side::Sell && best_bid && price <= best_bid->price.raw()))) {
    return fail(400, -2010, "Order would immediately match and take.");
  }
  if (!client_id.empty()) {
    for (const auto& [key, o] : s.orders) {
      if (o.account == account_index && o.symbol == *index && s.open(o) && o.client_id == client_id) {
        return fail(400, -2010, "Duplicate order sent.");
      }
    }
  }
  // Balance: BUY locks quote (limit price x qty, or the cost of walking the book for MARKET),
  // SELL locks base.
  std::int64_t lock = 0;
  if (order.side == Side::Sell) {
    lock = qty;
    if (lock == 0) {  // MARKET SELL by quote amount: base needed at the current bids
      lock = static_cast<std::int64_t>(static_cast<Int128>(quote_qty) * kFixedScale / std::max<std::int64_t>(best_bid ? best_bid->price.raw() : 1, 1)) + sym.step_size.raw();
    }
  } else if (order.type != book::OrderType::Market) {
    lock = notional(Price::from_raw(price), Qty::from_raw(qty)).raw();
  } else if (quote_qty != 0) {
    lock = quote_qty;
  } else {
    std::vector<book::AggregatedLevel> asks(1000);
    const std::size_t n = s.market.engine(*index).depth(Side::Sell, asks);
    std::int64_t remaining = qty;
    for (std::size_t i = 0; i < n && remaining > 0; ++i) {
      const std::int64_t take = std::min(remaining, asks[i].quantity.raw());
      lock += notional(asks[i].price, Qty::from_raw(take)).raw() + 1;  // +1: rounding of each fill
      remaining -= take;
    }
  }
  const std::string& lock_asset = order.side == Side::Buy ? sym.quote_asset : sym.base_asset;
  Impl::Balance& funds = s.balance(account, lock_asset);
  if (funds.free < lock) return fail(400, -2010, "Account has insufficient balance for requested action.");
  if (test_only) return SimReply{200, "{}", 0};

  if (client_id.empty()) client_id = "sim-" + std::to_string(++s.generated_ids);
  order.client_order_id = client_id;
  order.price = Price::from_raw(price);
  order.quantity = Qty::from_raw(qty);
  order.quote_qty = Money::from_raw(quote_qty);
  funds.free -= lock;
  funds.locked += lock;
  s.pending = Impl::Pending{account_index, client_id, order.time_in_force, lock, quote_qty, now_ms};
  const book::SubmitResult result = s.market.engine(*index).submit(order, now_ms * 1'000'000);
  s.pending.reset();
  if (result.order_id == 0) {
    funds.free += lock;
    funds.locked -= lock;
    switch (result.reason) {
      case book::RejectReason::DuplicateClientOrderId: return fail(400, -2010, "Duplicate order sent.");
      case book::RejectReason::WouldTake: return fail(400, -2010, "Order would immediately match and take.");
      case book::RejectReason::PriceOutOfBand: return fail(400, -1013, "Filter failure: PERCENT_PRICE");
      case book::RejectReason::NotionalBelowMin: return fail(400, -1013, "Filter failure: NOTIONAL");
      default: return fail(400, -1013, "Filter failure: " + std::string(book::to_string(result.reason)));
    }
  }
  s.market.after_user_request(*index, now_ms);
  Impl::Order& o = s.orders.at({*index, result.order_id});
  const std::string* resp = find_param(params, "newOrderRespType");
  const std::string resp_type = resp != nullptr ? *resp : std::string("FULL");
  SimReply ok;
  std::string& out = ok.body;
  out = "{";
  s.render_head(o, out);
  append_str(out, "clientOrderId", o.client_id);
  out += ',';
  append_num(out, "transactTime", now_ms);
  if (resp_type != "ACK") {
    out += ',';
    s.render_order_common(o, out);
    out += ',';
    append_num(out, "workingTime", now_ms);
    out += R"(,"selfTradePreventionMode":"EXPIRE_MAKER")";
    if (resp_type == "FULL") {
      out += R"(,"fills":[)";
      for (std::size_t i = 0; i < o.fills.size(); ++i) {
        const auto& f = o.fills[i];
        if (i != 0) out += ',';
        out += '{';
        append_dec(out, "price", f.price);
        out += ',';
        append_dec(out, "qty", f.qty);
        out += ',';
        append_dec(out, "commission", f.commission);
        out += ',';
        append_str(out, "commissionAsset", f.asset);
        out += ',';
        append_num(out, "tradeId", static_cast<std::int64_t>(f.trade_id));
        out += '}';
      }
      out += ']';
    }
  }
  out += '}';
  o.fills.clear();
  return ok;
}

void SimAccounts::on_user_event(std::size_t symbol_index, const book::Trade* trade, const book::OrderExpired* expired,
                                const book::OrderCancelled* cancelled, const book::OrderAccepted* accepted) {
  Impl& s = *impl_;
  const SimSymbolConfig& sym = s.market.symbol_config(symbol_index);
  if (accepted != nullptr) {
    if (!s.pending) return;
    Impl::Order o;
    o.symbol = symbol_index;
    o.account = s.pending->account;
    o.id = accepted->order_id;
    o.client_id = s.pending->client_id;
    o.side = accepted->side;
    o.type = accepted->type;
    o.tif = s.pending->tif;
    o.price = accepted->price.raw();
    o.orig_qty = accepted->quantity.raw();
    o.orig_quote = s.pending->orig_quote;
    o.locked = s.pending->lock;
    o.time = o.update_time = s.pending->now_ms;
    const auto key = std::make_pair(symbol_index, o.id);
    s.orders[key] = std::move(o);
    s.report(s.orders[key], "NEW", 0, 0, 0, "", -1, false, s.pending->now_ms);
    s.position(s.pending->account, symbol_index, s.pending->now_ms);
    return;
  }
  if (trade != nullptr) {
    for (int maker = 0; maker < 2; ++maker) {
      const book::AccountId id = maker != 0 ? trade->maker_account : trade->taker_account;
      const auto account_index = s.account_of(id);
      if (!account_index) continue;
      const book::OrderId order_id = maker != 0 ? trade->maker_order_id : trade->taker_order_id;
      auto it = s.orders.find({symbol_index, order_id});
      if (it == s.orders.end()) continue;
      Impl::Order& o = it->second;
      Impl::Account& a = s.accounts[*account_index];
      const std::int64_t q = trade->quantity.raw();
      const std::int64_t quote = trade->quote_qty.raw();
      const std::int64_t bps = maker != 0 ? s.config.maker_commission_bps : s.config.taker_commission_bps;
      o.executed += q;
      o.cum_quote += quote;
      o.update_time = trade->time / 1'000'000;
      if (o.type == book::OrderType::Market && o.orig_qty == 0) o.orig_qty = o.executed;  // by quote amount
      o.status = (maker != 0 ? trade->maker_open_qty.is_zero() : (o.orig_quote == 0 && trade->taker_open_qty.is_zero()))
                     ? book::OrderStatus::Filled
                     : book::OrderStatus::PartiallyFilled;

      std::int64_t commission = 0;
      std::string commission_asset;
      if (o.side == Side::Buy) {
        // The order locked quote at its limit price (or an estimate for MARKET): pay the trade
        // price, keep the rest locked for the remainder.
        const std::int64_t consumed = o.type == book::OrderType::Market ? quote : notional(Price::from_raw(o.price), Qty::from_raw(q)).raw();
        const std::int64_t used = std::min(consumed, o.locked);
        o.locked -= used;
        auto& quote_balance = s.balance(a, sym.quote_asset);
        quote_balance.locked -= used;
        quote_balance.free += used - std::min(quote, used);
        commission = bps_of(q, bps);
        commission_asset = sym.base_asset;
        s.balance(a, sym.base_asset).free += q - commission;
      } else {
        const std::int64_t used = std::min(q, o.locked);
        o.locked -= used;
        s.balance(a, sym.base_asset).locked -= used;
        commission = bps_of(quote, bps);
        commission_asset = sym.quote_asset;
        s.balance(a, sym.quote_asset).free += quote - commission;
      }
      a.update_time = o.update_time;
      if (maker == 0) o.fills.push_back(Impl::Fill{trade->price.raw(), q, commission, commission_asset, trade->trade_id});
      if (s.trade_log.size() >= Impl::kMaxTradeLog) s.trade_log.pop_front();
      s.trade_log.push_back(Impl::TradeRecord{*account_index, symbol_index, trade->trade_id, order_id, trade->price.raw(), q,
                                              quote, commission, commission_asset, o.update_time, o.side == Side::Buy,
                                              maker != 0});
      if (o.status == book::OrderStatus::Filled) s.release(o);
      s.report(o, "TRADE", q, trade->price.raw(), commission, commission_asset, static_cast<std::int64_t>(trade->trade_id),
               maker != 0, o.update_time);
      s.position(*account_index, symbol_index, o.update_time);
    }
    return;
  }
  if (expired != nullptr || cancelled != nullptr) {
    const book::OrderId order_id = expired != nullptr ? expired->order_id : cancelled->order_id;
    auto it = s.orders.find({symbol_index, order_id});
    if (it == s.orders.end()) return;
    Impl::Order& o = it->second;
    if (expired != nullptr) {
      o.status = book::expired_in_match(expired->reason) ? book::OrderStatus::ExpiredInMatch : book::OrderStatus::Expired;
      o.update_time = expired->time / 1'000'000;
    } else {
      o.status = book::OrderStatus::Canceled;
      o.update_time = cancelled->time / 1'000'000;
    }
    s.release(o);
    s.accounts[o.account].update_time = o.update_time;
    s.report(o, expired != nullptr ? "EXPIRED" : "CANCELED", 0, 0, 0, "", -1, false, o.update_time);
    s.position(o.account, symbol_index, o.update_time);
  }
}

}  // namespace tb::sim

#include "tradingbot/exchange/binance/ws_api_request.hpp"

#include <charconv>

namespace tb::binance {

namespace {
constexpr std::array<bool, 256> make_escape_table() noexcept {
  std::array<bool, 256> t{};
  for (std::size_t c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}
constexpr std::array<bool, 256> kNeedsEscape = make_escape_table();
}  // namespace

void json_escape_append(std::string& out, std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Bulk-append runs that need no escaping (almost always the whole value).
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n) {
    std::size_t run = i;
    while (run < n && !kNeedsEscape[static_cast<unsigned char>(in[run])]) ++run;
    if (run > i) out.append(in.data() + i, run - i);
    if (run == n) break;
    const auto c = static_cast<unsigned char>(in[run]);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0x0F]};
        out.append(esc, 6);
      }
    }
    i = run + 1;
  }
}

WsApiRequestBuilder::WsApiRequestBuilder() {
  arena_.reserve(1024);
  payload_.reserve(1024);
  json_.reserve(2048);
}

void WsApiRequestBuilder::reset_params() noexcept {
  arena_.clear();
  payload_.clear();
  count_ = 0;
  overflow_ = false;
  params_open_ = false;
}

void WsApiRequestBuilder::begin(std::string_view id, std::string_view method) {
  reset_params();
  json_.assign("{\"id\":\"");
  json_escape_append(json_, id);
  json_.append("\",\"method\":\"");
  json_escape_append(json_, method);
  json_.push_back('"');
}

void WsApiRequestBuilder::begin(std::int64_t id, std::string_view method) {
  reset_params();
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, id);
  json_.assign("{\"id\":");
  json_.append(buf, res.ptr);
  json_.append(",\"method\":\"");
  json_escape_append(json_, method);
  json_.push_back('"');
}

// Each parameter is written into the JSON as it is added (params keep the caller's order there)
// and recorded in the arena for the sorted signature payload.
void WsApiRequestBuilder::add_raw(std::string_view key, std::string_view value, ValueForm form) {
  if (count_ == kMaxParams) {
    overflow_ = true;
    return;
  }
  Param& p = params_[count_++];
  p.key_begin = static_cast<std::uint32_t>(arena_.size());
  p.key_len = static_cast<std::uint32_t>(key.size());
  arena_.append(key);
  p.value_begin = static_cast<std::uint32_t>(arena_.size());
  p.value_len = static_cast<std::uint32_t>(value.size());
  arena_.append(value);

  json_.append(params_open_ ? ",\"" : ",\"params\":{\"");
  params_open_ = true;
  json_escape_append(json_, key);
  json_.append("\":");
  switch (form) {
    case ValueForm::String:
      json_.push_back('"');
      json_escape_append(json_, value);
      json_.push_back('"');
      break;
    case ValueForm::SafeString:  // digits, '.', '-': nothing to escape
      json_.push_back('"');
      json_.append(value);
      json_.push_back('"');
      break;
    case ValueForm::Literal: json_.append(value); break;
  }
}

std::string_view WsApiRequestBuilder::key_of(const Param& p) const noexcept {
  return std::string_view(arena_).substr(p.key_begin, p.key_len);
}
std::string_view WsApiRequestBuilder::value_of(const Param& p) const noexcept {
  return std::string_view(arena_).substr(p.value_begin, p.value_len);
}

void WsApiRequestBuilder::add(std::string_view key, std::string_view value) { add_raw(key, value, ValueForm::String); }
void WsApiRequestBuilder::add(std::string_view key, std::int64_t value) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  add_raw(key, std::string_view(buf, static_cast<std::size_t>(res.ptr - buf)), ValueForm::Literal);
}
void WsApiRequestBuilder::add(std::string_view key, bool value) {
  add_raw(key, value ? "true" : "false", ValueForm::Literal);
}
void WsApiRequestBuilder::add_fixed(std::string_view key, std::int64_t raw, int digits) {
  char buf[kMaxFixedChars];
  add_raw(key, std::string_view(buf, format_fixed(raw, digits, buf)), ValueForm::SafeString);
}

void WsApiRequestBuilder::close_json(std::string_view signature) {
  if (!signature.empty()) {
    json_.append(params_open_ ? ",\"signature\":\"" : ",\"params\":{\"signature\":\"");
    params_open_ = true;
    json_.append(signature);  // hex or base64: nothing to escape
    json_.push_back('"');
  }
  if (params_open_) json_.push_back('}');
  json_.push_back('}');
}

BuildStatus WsApiRequestBuilder::sign(RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  if (timing.recv_window_ms > 0) add("recvWindow", timing.recv_window_ms);
  add("timestamp", timing.timestamp_ms);
  add("apiKey", api_key);
  if (overflow_) return BuildStatus::SignFailed;
  // Sort parameter indices by name (insertion sort: a dozen params at most). Keys are cached as
  // views first: the arena no longer grows from here on.
  std::array<std::string_view, kMaxParams> keys;
  for (std::size_t i = 0; i < count_; ++i) {
    order_[i] = static_cast<std::uint8_t>(i);
    keys[i] = key_of(params_[i]);
  }
  const auto less = [&keys](std::uint8_t a, std::uint8_t b) noexcept {
    const std::string_view ka = keys[a], kb = keys[b];
    // Names nearly always differ in the first byte; compare that before calling memcmp.
    if (!ka.empty() && !kb.empty() && ka[0] != kb[0]) return ka[0] < kb[0];
    return ka < kb;
  };
  for (std::size_t i = 1; i < count_; ++i) {
    const std::uint8_t cur = order_[i];
    std::size_t j = i;
    while (j > 0 && less(cur, order_[j - 1])) {
      order_[j] = order_[j - 1];
      --j;
    }
    order_[j] = cur;
  }
  payload_.clear();
  for (std::size_t i = 0; i < count_; ++i) {
    const Param& p = params_[order_[i]];
    if (i > 0) payload_.push_back('&');
    payload_.append(keys[order_[i]]);
    payload_.push_back('=');
    payload_.append(value_of(p));
  }
  SignatureText sig;
  if (!signer.sign(payload_, sig)) return BuildStatus::SignFailed;
  close_json(sig.view());
  return BuildStatus::Ok;
}

void WsApiRequestBuilder::finish_unsigned() { close_json({}); }

namespace {

BuildStatus ref_request(WsApiRequestBuilder& b, std::string_view id, std::string_view method, const OrderRef& ref,
                        RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  if (!is_complete(ref)) return BuildStatus::MissingField;
  b.begin(id, method);
  add_order_ref_fields(b, ref);
  return b.sign(signer, api_key, timing);
}

}  // namespace

BuildStatus build_order_place(WsApiRequestBuilder& b, std::string_view id, const NewOrder& order,
                              RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  if (!has_required_fields(order)) return BuildStatus::MissingField;
  b.begin(id, "order.place");
  add_new_order_fields(b, order);
  return b.sign(signer, api_key, timing);
}

BuildStatus build_order_cancel(WsApiRequestBuilder& b, std::string_view id, const OrderRef& ref,
                               RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  return ref_request(b, id, "order.cancel", ref, signer, api_key, timing);
}

BuildStatus build_order_status(WsApiRequestBuilder& b, std::string_view id, const OrderRef& ref,
                               RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  return ref_request(b, id, "order.status", ref, signer, api_key, timing);
}

BuildStatus build_open_orders_status(WsApiRequestBuilder& b, std::string_view id, std::string_view symbol,
                                     RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  b.begin(id, "openOrders.status");
  if (!symbol.empty()) b.add("symbol", symbol);
  return b.sign(signer, api_key, timing);
}

BuildStatus build_user_data_stream_subscribe_signature(WsApiRequestBuilder& b, std::string_view id,
                                                       RequestSigner& signer, std::string_view api_key,
                                                       RequestTiming timing) {
  b.begin(id, "userDataStream.subscribe.signature");
  return b.sign(signer, api_key, timing);
}

}  // namespace tb::binance

#include "tradingbot/exchange/binance/ws_api_request.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// A fixed-point value printed into `buf` with `digits` decimals.
std::string_view fixed_text(std::int64_t raw, int digits, char (&buf)[kMaxFixedChars]) noexcept {
  return {buf, format_fixed(raw, digits, buf)};
}

std::string_view integer_text(std::int64_t value, char (&buf)[24]) noexcept {
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  return {buf, static_cast<std::size_t>(res.ptr - buf)};
}
}  // namespace

bool needs_json_escape(std::string_view in) noexcept {
  const char* p = in.data();
  std::size_t n = in.size();
#if defined(__SSE2__)
  // 16 bytes per step: a quote, a backslash, or a byte <= 0x1F (unsigned: min(v, 0x1F) == v).
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control_max = _mm_set1_epi8(0x1F);
  for (; n >= 16; p += 16, n -= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                     _mm_cmpeq_epi8(_mm_min_epu8(v, control_max), v));
    if (_mm_movemask_epi8(hit) != 0) return true;
  }
#endif
  for (; n > 0; ++p, --n) {
    if (kNeedsEscape[static_cast<unsigned char>(*p)]) return true;
  }
  return false;
}

namespace {
// Escapes `in` run by run (json_escape_append and the builder check needs_json_escape first).
void append_escaped(std::string& out, std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
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
}  // namespace

void json_escape_append(std::string& out, std::string_view in) {
  if (needs_json_escape(in)) {
    append_escaped(out, in);
  } else {
    out.append(in);  // the common case: one copy
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
  json_.assign("{\"id\":");
  json_.append(integer_text(id, buf));
  json_.append(",\"method\":\"");
  json_escape_append(json_, method);
  json_.push_back('"');
}

// Each parameter is written into the JSON as it is added (params keep the caller's order there).
// The signature payload needs the raw key and value: a text that went into the JSON verbatim (all
// of them, in practice) is referred to there; only one that had to be escaped is copied to the
// arena in raw form.
WsApiRequestBuilder::Text WsApiRequestBuilder::append_json_text(std::string_view text) {
  const auto size = static_cast<std::uint32_t>(text.size());
  if (!needs_json_escape(text)) {
    const Text at{static_cast<std::uint32_t>(json_.size()), size, false};
    json_.append(text);
    return at;
  }
  const Text at{static_cast<std::uint32_t>(arena_.size()), size, true};
  arena_.append(text);
  append_escaped(json_, text);
  return at;
}

WsApiRequestBuilder::Text WsApiRequestBuilder::append_json_verbatim(std::string_view text) {
  const Text at{static_cast<std::uint32_t>(json_.size()), static_cast<std::uint32_t>(text.size()), false};
  json_.append(text);
  return at;
}

void WsApiRequestBuilder::add_raw(ParamName key, std::string_view value, ValueForm form) {
  if (count_ == kMaxParams) {
    overflow_ = true;
    return;
  }
  Param& p = params_[count_++];
  json_.append(params_open_ ? ",\"" : ",\"params\":{\"");
  params_open_ = true;
  p.key = append_json_verbatim(key.view());  // letters and digits (ParamName)
  json_.append("\":");
  switch (form) {
    case ValueForm::String:
      json_.push_back('"');
      p.value = append_json_text(value);
      json_.push_back('"');
      break;
    case ValueForm::SafeString:  // add_fixed's digits, '.' and '-', or add_safe's values
      assert(!needs_json_escape(value));
      json_.push_back('"');
      p.value = append_json_verbatim(value);
      json_.push_back('"');
      break;
    case ValueForm::Literal: p.value = append_json_verbatim(value); break;
  }
}

std::string_view WsApiRequestBuilder::text_of(Text t) const noexcept {
  return std::string_view(t.in_arena ? arena_ : json_).substr(t.begin, t.size);
}

void WsApiRequestBuilder::add(ParamName key, std::string_view value) { add_raw(key, value, ValueForm::String); }
void WsApiRequestBuilder::add_safe(ParamName key, std::string_view value) { add_raw(key, value, ValueForm::SafeString); }
void WsApiRequestBuilder::add(ParamName key, std::int64_t value) {
  char buf[24];
  add_raw(key, integer_text(value, buf), ValueForm::Literal);
}
void WsApiRequestBuilder::add(ParamName key, bool value) {
  add_raw(key, value ? "true" : "false", ValueForm::Literal);
}
void WsApiRequestBuilder::add_fixed(ParamName key, std::int64_t raw, int digits) {
  char buf[kMaxFixedChars];
  add_raw(key, fixed_text(raw, digits, buf), ValueForm::SafeString);
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
  // views first: neither the JSON nor the arena grows until the payload is built.
  std::array<std::string_view, kMaxParams> keys;
  for (std::size_t i = 0; i < count_; ++i) {
    order_[i] = static_cast<std::uint8_t>(i);
    keys[i] = text_of(params_[i].key);
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
    if (i > 0) payload_.push_back('&');
    payload_.append(keys[order_[i]]);
    payload_.push_back('=');
    payload_.append(text_of(params_[order_[i]].value));
  }
  SignatureText sig;
  if (!signer.sign(payload_, sig)) return BuildStatus::SignFailed;
  close_json(sig.view());
  return BuildStatus::Ok;
}

void WsApiRequestBuilder::finish_unsigned() { close_json({}); }

namespace {

// Writes into a buffer sized up front (the caller's bound covers every byte), so no append
// checks capacity. Short texts (parameter names, most values) are copied with two overlapping
// fixed-size moves instead of a call to memcpy.
class FrameWriter {
 public:
  explicit FrameWriter(char* at) noexcept : at_(at) {}
  template <std::size_t N>
  void put(const char (&literal)[N]) noexcept {
    std::memcpy(at_, literal, N - 1);
    at_ += N - 1;
  }
  void put(char c) noexcept { *at_++ = c; }
  void put(std::string_view text) noexcept {
    const char* from = text.data();
    const std::size_t n = text.size();
    if (n >= 8 && n <= 16) {
      std::memcpy(at_, from, 8);
      std::memcpy(at_ + n - 8, from + n - 8, 8);
    } else if (n >= 4 && n < 8) {
      std::memcpy(at_, from, 4);
      std::memcpy(at_ + n - 4, from + n - 4, 4);
    } else if (n > 16) {
      std::memcpy(at_, from, n);
    } else {
      for (std::size_t i = 0; i < n; ++i) at_[i] = from[i];
    }
    at_ += n;
  }
  [[nodiscard]] char* at() const noexcept { return at_; }

 private:
  char* at_;
};

}  // namespace

BuildStatus WsApiRequestBuilder::write_known(std::string_view id, std::string_view method,
                                             std::span<const KnownParam> in_json_order,
                                             std::span<const KnownParam> in_name_order, RequestSigner& signer) {
  assert(in_json_order.size() == in_name_order.size() && !in_json_order.empty());
  assert(std::is_sorted(in_name_order.begin(), in_name_order.end(),
                        [](const KnownParam& a, const KnownParam& b) { return a.name < b.name; }));
  assert(!needs_json_escape(id));
  reset_params();
  // {"id":"<id>","method":"<method>","params":{"<name>":"<value>",...,"signature":"<sig>"}}:
  // 49 bytes of punctuation and keys around id, method and signature, 6 around each parameter.
  std::size_t json_bound = 64 + id.size() + method.size() + SignatureText::kCapacity;
  std::size_t payload_bound = 0;
  for (const KnownParam& p : in_json_order) {
    assert(!needs_json_escape(p.value));
    json_bound += p.name.size() + p.value.size() + 6;
    payload_bound += p.name.size() + p.value.size() + 2;
  }
  json_.resize(json_bound);  // within the reserved capacity for any real order
  payload_.resize(payload_bound);

  FrameWriter json(json_.data());
  json.put("{\"id\":\"");
  json.put(id);
  json.put("\",\"method\":\"");
  json.put(method);
  json.put("\",\"params\":{");
  bool first = true;
  for (const KnownParam& p : in_json_order) {
    if (!first) json.put(',');
    first = false;
    json.put('"');
    json.put(p.name);
    json.put("\":");
    if (p.quoted) json.put('"');
    json.put(p.value);
    if (p.quoted) json.put('"');
  }
  FrameWriter payload(payload_.data());
  first = true;
  for (const KnownParam& p : in_name_order) {
    if (!first) payload.put('&');
    first = false;
    payload.put(p.name);
    payload.put('=');
    payload.put(p.value);
  }
  payload_.resize(static_cast<std::size_t>(payload.at() - payload_.data()));

  SignatureText sig;
  if (!signer.sign(payload_, sig)) {
    json_.clear();
    return BuildStatus::SignFailed;
  }
  json.put(",\"signature\":\"");
  json.put(sig.view());  // hex or base64: nothing to escape
  json.put("\"}}");
  json_.resize(static_cast<std::size_t>(json.at() - json_.data()));
  return BuildStatus::Ok;
}

namespace {

BuildStatus ref_request(WsApiRequestBuilder& b, std::string_view id, std::string_view method, const OrderRef& ref,
                        RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  if (!is_complete(ref)) return BuildStatus::MissingField;
  b.begin(id, method);
  add_order_ref_fields(b, ref);
  return b.sign(signer, api_key, timing);
}

}  // namespace

namespace detail {

BuildStatus build_order_place_general(WsApiRequestBuilder& b, std::string_view id, const NewOrder& order,
                                      RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  if (!has_required_fields(order)) return BuildStatus::MissingField;
  b.begin(id, "order.place");
  add_new_order_fields(b, order);
  return b.sign(signer, api_key, timing);
}

BuildStatus build_order_cancel_general(WsApiRequestBuilder& b, std::string_view id, const OrderRef& ref,
                                       RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  return ref_request(b, id, "order.cancel", ref, signer, api_key, timing);
}

}  // namespace detail

namespace {

using KnownParam = WsApiRequestBuilder::KnownParam;

// The parameters the signature adds, in their places in both orders (names sorted: apiKey first,
// recvWindow after "q...", timestamp after "timeInForce").
struct SignatureParams {
  char recv_window_buf[24];
  char timestamp_buf[24];
  KnownParam api_key, recv_window, timestamp;
  bool has_recv_window;
  SignatureParams(std::string_view key, RequestTiming timing) noexcept
      : api_key{"apiKey", key, true},
        recv_window{"recvWindow", integer_text(timing.recv_window_ms, recv_window_buf), false},
        timestamp{"timestamp", integer_text(timing.timestamp_ms, timestamp_buf), false},
        has_recv_window(timing.recv_window_ms > 0) {}
};

}  // namespace

// The same parameters as add_new_order_fields + sign() (the general path), written directly.
BuildStatus build_order_place(WsApiRequestBuilder& b, std::string_view id, const NewOrder& order,
                              RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  if (!has_required_fields(order)) return BuildStatus::MissingField;
  if (needs_json_escape(id) || needs_json_escape(order.client_order_id.view()) || needs_json_escape(api_key)) {
    return detail::build_order_place_general(b, id, order, signer, api_key, timing);
  }
  const bool has_tif = order.time_in_force != TimeInForce::None;
  const bool has_quantity = order.quantity.is_positive();
  const bool has_quote = order.quote_order_qty.is_positive();
  const bool has_price = order.price.is_positive();
  const bool has_stop = order.stop_price.is_positive();
  const bool has_client_id = !order.client_order_id.empty();
  const bool has_response = order.set_response_type;
  char quantity_buf[kMaxFixedChars];
  char quote_buf[kMaxFixedChars];
  char price_buf[kMaxFixedChars];
  char stop_buf[kMaxFixedChars];
  // Only the values sent are printed (a limit order has no quoteOrderQty or stopPrice).
  const auto fixed_if = [](bool present, std::int64_t raw, int digits, char(&buf)[kMaxFixedChars]) {
    return present ? fixed_text(raw, digits, buf) : std::string_view{};
  };
  const SignatureParams sig(api_key, timing);
  const KnownParam symbol{"symbol", order.symbol.view()};
  const KnownParam side{"side", to_string(order.side)};
  const KnownParam type{"type", to_string(order.type)};
  const KnownParam tif{"timeInForce", to_string(order.time_in_force)};
  const KnownParam quantity{"quantity", fixed_if(has_quantity, order.quantity.raw(), order.qty_digits, quantity_buf)};
  const KnownParam quote{"quoteOrderQty",
                         fixed_if(has_quote, order.quote_order_qty.raw(), order.price_digits, quote_buf)};
  const KnownParam price{"price", fixed_if(has_price, order.price.raw(), order.price_digits, price_buf)};
  const KnownParam stop{"stopPrice", fixed_if(has_stop, order.stop_price.raw(), order.price_digits, stop_buf)};
  const KnownParam client_id{"newClientOrderId", order.client_order_id.view()};
  const KnownParam response{"newOrderRespType", to_string(order.response_type)};

  std::array<KnownParam, 13> in_json_order;
  std::size_t n = 0;
  const auto json_add = [&](bool present, const KnownParam& p) {
    if (present) in_json_order[n++] = p;
  };
  json_add(true, symbol);
  json_add(true, side);
  json_add(true, type);
  json_add(has_tif, tif);
  json_add(has_quantity, quantity);
  json_add(has_quote, quote);
  json_add(has_price, price);
  json_add(has_stop, stop);
  json_add(has_client_id, client_id);
  json_add(has_response, response);
  json_add(sig.has_recv_window, sig.recv_window);
  json_add(true, sig.timestamp);
  json_add(true, sig.api_key);

  std::array<KnownParam, 13> in_name_order;
  std::size_t m = 0;
  const auto name_add = [&](bool present, const KnownParam& p) {
    if (present) in_name_order[m++] = p;
  };
  name_add(true, sig.api_key);
  name_add(has_client_id, client_id);
  name_add(has_response, response);
  name_add(has_price, price);
  name_add(has_quantity, quantity);
  name_add(has_quote, quote);
  name_add(sig.has_recv_window, sig.recv_window);
  name_add(true, side);
  name_add(has_stop, stop);
  name_add(true, symbol);
  name_add(has_tif, tif);
  name_add(true, sig.timestamp);
  name_add(true, type);
  return b.write_known(id, "order.place", std::span(in_json_order.data(), n), std::span(in_name_order.data(), m),
                       signer);
}

// The same parameters as add_order_ref_fields + sign() (the general path), written directly.
BuildStatus build_order_cancel(WsApiRequestBuilder& b, std::string_view id, const OrderRef& ref,
                               RequestSigner& signer, std::string_view api_key, RequestTiming timing) {
  if (!is_complete(ref)) return BuildStatus::MissingField;
  if (needs_json_escape(id) || needs_json_escape(ref.orig_client_order_id.view()) || needs_json_escape(api_key)) {
    return detail::build_order_cancel_general(b, id, ref, signer, api_key, timing);
  }
  char order_id_buf[24];
  const SignatureParams sig(api_key, timing);
  const KnownParam symbol{"symbol", ref.symbol.view()};
  const bool by_id = ref.order_id >= 0;
  const KnownParam order{by_id ? KnownParam{"orderId", integer_text(ref.order_id, order_id_buf), false}
                               : KnownParam{"origClientOrderId", ref.orig_client_order_id.view()}};
  std::array<KnownParam, 5> in_json_order;
  std::array<KnownParam, 5> in_name_order;
  std::size_t n = 0;
  in_json_order[n++] = symbol;
  in_json_order[n++] = order;
  if (sig.has_recv_window) in_json_order[n++] = sig.recv_window;
  in_json_order[n++] = sig.timestamp;
  in_json_order[n++] = sig.api_key;
  std::size_t m = 0;
  in_name_order[m++] = sig.api_key;
  in_name_order[m++] = order;  // orderId / origClientOrderId: after apiKey, before recvWindow
  if (sig.has_recv_window) in_name_order[m++] = sig.recv_window;
  in_name_order[m++] = symbol;
  in_name_order[m++] = sig.timestamp;
  return b.write_known(id, "order.cancel", std::span(in_json_order.data(), n), std::span(in_name_order.data(), m),
                       signer);
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

// WsApiRequestBuilder: the JSON text frame of a signed Binance WebSocket API request
// (reference sections 6 and 10). The signature covers every param except `signature`
// (apiKey included) sorted by name, joined as k=v with '&', raw UTF-8 values (no
// percent-encoding); the signature (hex for HMAC, base64 for Ed25519) is sent as-is.
// JSON strings are escaped per RFC 8259 (", \, control characters), UTF-8 passes through.
// Buffers are kept across requests. Owned by one thread (the trading thread); never throws
// except std::bad_alloc.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tradingbot/exchange/binance/order_request.hpp"
#include "tradingbot/exchange/binance/rest_request.hpp"
#include "tradingbot/exchange/binance/signer.hpp"

namespace tb::binance {

// True when `in` holds a character a JSON string must escape (", \, control characters).
[[nodiscard]] bool needs_json_escape(std::string_view in) noexcept;
// Appends `in` as the inside of a JSON string (no quotes).
void json_escape_append(std::string& out, std::string_view in);

// A parameter name, checked at compile time: Binance's names are ASCII letters and digits, so
// one never needs JSON escaping and goes into the frame as it is. A name the check refuses
// does not compile.
class ParamName {
 public:
  consteval ParamName(const char* name) : text_(name) {  // NOLINT: implicit from a literal by design
    if (text_.empty()) throw "a parameter name is never empty";
    for (const char c : text_) {
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum) throw "a parameter name is ASCII letters and digits";
    }
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return text_; }

 private:
  std::string_view text_;
};

class WsApiRequestBuilder {
 public:
  static constexpr std::size_t kMaxParams = 32;

  WsApiRequestBuilder();

  // Starts a request; a string id is sent as a JSON string, an integer id as a number.
  void begin(std::string_view id, std::string_view method);
  void begin(std::int64_t id, std::string_view method);

  void add(ParamName key, std::string_view value);  // JSON string, escaped as needed
  void add(ParamName key, const char* value) { add(key, std::string_view(value)); }
  void add(ParamName key, std::int64_t value);      // JSON number
  void add(ParamName key, bool value);              // JSON true/false
  void add_fixed(ParamName key, std::int64_t raw, int digits);  // JSON string "0.01000000"
  // A JSON string whose value needs no escaping by construction: a Symbol (its parser refuses
  // quotes, backslashes and control characters) or an enum's wire name. Skips the escape scan
  // (asserted in checked builds). Anything from outside (client order ids, keys): add().
  void add_safe(ParamName key, std::string_view value);

  // Adds recvWindow (when > 0), timestamp and apiKey, signs the sorted params, adds signature
  // and closes the JSON. False (SignFailed) if signing failed or there are too many params.
  [[nodiscard]] BuildStatus sign(RequestSigner& signer, std::string_view api_key, RequestTiming timing);
  // Closes the JSON without signing (public methods, or after session.logon).
  void finish_unsigned();

  // The finished frame (valid after sign() or finish_unsigned()).
  [[nodiscard]] std::string_view json() const noexcept { return json_; }
  [[nodiscard]] std::string_view signed_payload() const noexcept { return payload_; }

  // One parameter of a request whose parameter set the caller knows in full (the order path's
  // order.place and order.cancel): its value needs no JSON escaping, `quoted` says whether the
  // JSON holds it as a string.
  struct KnownParam {
    std::string_view name;
    std::string_view value;
    bool quoted = true;
  };
  // Writes and signs such a request in one pass, with no per-parameter bookkeeping and no sort:
  // `in_json_order` as the params object lists them (the order the general path gives: fields,
  // then recvWindow, timestamp, apiKey), `in_name_order` the same parameters sorted by name for
  // the signature payload. `id` and every value must need no escaping. The frame is the one the
  // general path (begin, add..., sign) builds from the same parameters, byte for byte.
  [[nodiscard]] BuildStatus write_known(std::string_view id, std::string_view method,
                                        std::span<const KnownParam> in_json_order,
                                        std::span<const KnownParam> in_name_order, RequestSigner& signer);

 private:
  enum class ValueForm : std::uint8_t { String, SafeString, Literal };
  // A raw key or value: in json_ where it was written verbatim, else in arena_.
  struct Text {
    std::uint32_t begin = 0, size = 0;
    bool in_arena = false;
  };
  struct Param {
    Text key, value;
  };
  void reset_params() noexcept;
  void add_raw(ParamName key, std::string_view value, ValueForm form);
  Text append_json_text(std::string_view text);      // escaped as needed
  Text append_json_verbatim(std::string_view text);  // known to need no escaping
  [[nodiscard]] std::string_view text_of(Text t) const noexcept;
  void close_json(std::string_view signature);

  std::string arena_;  // raw form of the rare key or value that the JSON holds escaped
  std::array<Param, kMaxParams> params_{};
  std::size_t count_ = 0;
  bool overflow_ = false;
  bool params_open_ = false;
  std::array<std::uint8_t, kMaxParams> order_{};
  std::string payload_;
  std::string json_;  // written as params are added; closed by sign()/finish_unsigned()
};

// The methods the bot uses. Each resets `b`, builds and signs; the frame is then b.json().
// order.place and order.cancel, the order path's requests, go through write_known() whenever
// the request id, client order id and API key need no JSON escaping (always, in practice); the
// general path otherwise.
[[nodiscard]] BuildStatus build_order_place(WsApiRequestBuilder& b, std::string_view id, const NewOrder& order,
                                            RequestSigner& signer, std::string_view api_key, RequestTiming timing);
[[nodiscard]] BuildStatus build_order_cancel(WsApiRequestBuilder& b, std::string_view id, const OrderRef& ref,
                                             RequestSigner& signer, std::string_view api_key, RequestTiming timing);
[[nodiscard]] BuildStatus build_order_status(WsApiRequestBuilder& b, std::string_view id, const OrderRef& ref,
                                             RequestSigner& signer, std::string_view api_key, RequestTiming timing);
// symbol empty: every symbol (weight 80 instead of 6).
[[nodiscard]] BuildStatus build_open_orders_status(WsApiRequestBuilder& b, std::string_view id,
                                                   std::string_view symbol, RequestSigner& signer,
                                                   std::string_view api_key, RequestTiming timing);
namespace detail {
// order.place and order.cancel through the general path (begin, add..., sign): the reference
// the direct writer is tested against, and the way for values that need escaping.
[[nodiscard]] BuildStatus build_order_place_general(WsApiRequestBuilder& b, std::string_view id, const NewOrder& order,
                                                    RequestSigner& signer, std::string_view api_key,
                                                    RequestTiming timing);
[[nodiscard]] BuildStatus build_order_cancel_general(WsApiRequestBuilder& b, std::string_view id, const OrderRef& ref,
                                                     RequestSigner& signer, std::string_view api_key,
                                                     RequestTiming timing);
}  // namespace detail
// userDataStream.subscribe.signature: apiKey, timestamp (+recvWindow), signature; any key type.
[[nodiscard]] BuildStatus build_user_data_stream_subscribe_signature(WsApiRequestBuilder& b, std::string_view id,
                                                                     RequestSigner& signer, std::string_view api_key,
                                                                     RequestTiming timing);

}  // namespace tb::binance

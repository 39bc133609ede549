// RestRequestBuilder: builds the exact bytes of a signed Binance REST request once, signs those
// bytes and appends `signature` last (reference section 6; pitfall 13.9). Parameters keep the
// caller's order; values are percent-encoded (UTF-8 bytes as %XX, A-Za-z0-9-._~ literal); the
// signed payload is query string + body with no separator; an Ed25519 base64 signature is
// percent-encoded before it is appended. The builder keeps its buffers across requests, so a warm
// builder does not allocate.
// Owned by one thread (the trading thread); the hot-path calls return status values, never throw.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tradingbot/exchange/binance/order_request.hpp"
#include "tradingbot/exchange/binance/signer.hpp"

namespace tb::binance {

enum class BuildStatus : std::uint8_t { Ok, SignFailed, MissingField };
[[nodiscard]] std::string_view to_string(BuildStatus status) noexcept;

class RestRequestBuilder {
 public:
  explicit RestRequestBuilder(std::size_t reserve_bytes = 1024);

  // Starts a new request (keeps capacity). Parameters go to the query string until begin_body().
  void reset() noexcept;
  void begin_body() noexcept { in_body_ = true; }

  void add(std::string_view key, std::string_view value);
  void add(std::string_view key, std::int64_t value);
  void add(std::string_view key, bool value);
  void add_fixed(std::string_view key, std::int64_t raw, int digits);
  // Disambiguates string literals from the bool overload.
  void add(std::string_view key, const char* value) { add(key, std::string_view(value)); }
  // The WS API builder's no-escape form (order_request.hpp fills both builders); a query string
  // still percent-encodes what it must, so here it is add().
  void add_safe(std::string_view key, std::string_view value) { add(key, value); }

  // Appends recvWindow (when timing.recv_window_ms > 0) and timestamp, signs query+body and
  // appends &signature=... to the body when there is one, else to the query.
  [[nodiscard]] BuildStatus sign(RequestSigner& signer, RequestTiming timing) noexcept;
  // Signs exactly what was added (the caller put timestamp in itself) and appends the signature.
  [[nodiscard]] BuildStatus sign_as_is(RequestSigner& signer) noexcept;

  [[nodiscard]] std::string_view query() const noexcept { return query_; }
  [[nodiscard]] std::string_view body() const noexcept { return body_; }
  // The bytes that were signed (query + body before the signature was appended).
  [[nodiscard]] std::string_view signed_payload() const noexcept {
    return body_.empty() ? std::string_view(query_).substr(0, signed_len_) : std::string_view(payload_);
  }
  // The signature as sent (percent-encoded when base64).
  [[nodiscard]] std::string_view signature() const noexcept { return signature_; }
  // "/api/v3/order?<query>" (or the bare path when the query is empty), into `out`.
  void target(std::string_view path, std::string& out) const;

 private:
  std::string& part() noexcept { return in_body_ ? body_ : query_; }
  void key(std::string_view k);
  std::string query_;
  std::string body_;
  std::string payload_;
  std::string signature_;
  std::size_t signed_len_ = 0;  // query bytes that were signed (when there is no body)
  bool in_body_ = false;
};

// The parameters of the common requests, in the order documented for each endpoint.
// POST /api/v3/order (or /order/test). MissingField when the type's required fields are absent.
[[nodiscard]] BuildStatus add_new_order_params(RestRequestBuilder& b, const NewOrder& order);
// DELETE /api/v3/order and GET /api/v3/order.
[[nodiscard]] BuildStatus add_order_ref_params(RestRequestBuilder& b, const OrderRef& ref);

// Checks the per-type required fields of reference section 7 (LIMIT: timeInForce+quantity+price,
// MARKET: quantity or quoteOrderQty, LIMIT_MAKER: quantity+price, STOP_*: +stopPrice ...).
[[nodiscard]] bool has_required_fields(const NewOrder& order) noexcept;

}  // namespace tb::binance

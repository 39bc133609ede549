#include "tradingbot/exchange/binance/rest_request.hpp"

#include <charconv>

namespace tb::binance {

std::string_view to_string(BuildStatus status) noexcept {
  switch (status) {
    case BuildStatus::Ok: return "ok";
    case BuildStatus::SignFailed: return "signing failed";
    case BuildStatus::MissingField: return "a field the order type requires is missing";
  }
  return "unknown";
}

RestRequestBuilder::RestRequestBuilder(std::size_t reserve_bytes) {
  query_.reserve(reserve_bytes);
  body_.reserve(reserve_bytes);
  payload_.reserve(2 * reserve_bytes);
  signature_.reserve(3 * SignatureText::kCapacity);
}

void RestRequestBuilder::reset() noexcept {
  query_.clear();
  body_.clear();
  payload_.clear();
  signature_.clear();
  signed_len_ = 0;
  in_body_ = false;
}

void RestRequestBuilder::key(std::string_view k) {
  std::string& out = part();
  if (!out.empty()) out.push_back('&');
  percent_encode_append(out, k);  // our parameter names are literal: one bulk append
  out.push_back('=');
}

void RestRequestBuilder::add(std::string_view k, std::string_view value) {
  key(k);
  percent_encode_append(part(), value);
}

void RestRequestBuilder::add(std::string_view k, std::int64_t value) {
  key(k);
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  part().append(buf, res.ptr);
}

void RestRequestBuilder::add(std::string_view k, bool value) {
  key(k);
  part().append(value ? "true" : "false");
}

void RestRequestBuilder::add_fixed(std::string_view k, std::int64_t raw, int digits) {
  key(k);
  char buf[kMaxFixedChars];
  part().append(buf, format_fixed(raw, digits, buf));  // digits, '.', '-' need no encoding
}

BuildStatus RestRequestBuilder::sign(RequestSigner& signer, RequestTiming timing) noexcept {
  if (timing.recv_window_ms > 0) add("recvWindow", timing.recv_window_ms);
  add("timestamp", timing.timestamp_ms);
  return sign_as_is(signer);
}

BuildStatus RestRequestBuilder::sign_as_is(RequestSigner& signer) noexcept {
  // The signed bytes are query + body; copy only when both parts exist.
  std::string_view payload = query_;
  if (!body_.empty()) {
    payload_.assign(query_);
    payload_.append(body_);
    payload = payload_;
  }
  SignatureText sig;
  if (!signer.sign(payload, sig)) return BuildStatus::SignFailed;
  signed_len_ = query_.size();
  signature_.clear();
  percent_encode_append(signature_, sig.view());  // no-op for hex; + / = for base64
  std::string& out = body_.empty() ? query_ : body_;
  if (!out.empty()) out.push_back('&');
  out.append("signature=");
  out.append(signature_);
  return BuildStatus::Ok;
}

void RestRequestBuilder::target(std::string_view path, std::string& out) const {
  out.assign(path);
  if (!query_.empty()) {
    out.push_back('?');
    out.append(query_);
  }
}

bool has_required_fields(const NewOrder& o) noexcept {
  const bool qty = o.quantity.is_positive();
  const bool price = o.price.is_positive();
  const bool tif = o.time_in_force != TimeInForce::None;
  const bool stop = o.stop_price.is_positive();
  if (o.symbol.empty()) return false;
  switch (o.type) {
    case OrderType::Limit: return tif && qty && price;
    case OrderType::Market: return qty != o.quote_order_qty.is_positive();  // exactly one of them
    case OrderType::LimitMaker: return qty && price;
    case OrderType::StopLoss:
    case OrderType::TakeProfit: return qty && stop;
    case OrderType::StopLossLimit:
    case OrderType::TakeProfitLimit: return qty && stop && tif && price;
    case OrderType::Unknown: return false;
  }
  return false;
}

BuildStatus add_new_order_params(RestRequestBuilder& b, const NewOrder& o) {
  if (!has_required_fields(o)) return BuildStatus::MissingField;
  add_new_order_fields(b, o);
  return BuildStatus::Ok;
}

BuildStatus add_order_ref_params(RestRequestBuilder& b, const OrderRef& ref) {
  if (!is_complete(ref)) return BuildStatus::MissingField;
  add_order_ref_fields(b, ref);
  return BuildStatus::Ok;
}

}  // namespace tb::binance

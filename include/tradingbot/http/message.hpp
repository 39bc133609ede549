// Request and Response: what a route handler sees and fills in. A Request is a read-only view
// of one parsed HTTP request (method, path, percent-decoded query parameters, headers, remote
// address, body); every string_view it hands out points into the connection's buffers and is
// valid only for the duration of the handler call, so copy what you keep. A Response is reused
// per connection: handlers write straight into `body` (e.g. with JsonWriter) and its capacity
// is kept for the next request, so a warm connection answers without allocating.
// Both live on the HTTP thread; handlers must not hand them to other threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tb::http {

enum class Method : std::uint8_t { Get, Head, Post, Put, Delete, Patch, Options, Other };
inline constexpr std::size_t kMethodCount = 8;
[[nodiscard]] std::string_view to_string(Method method) noexcept;
// "GET" -> Method::Get; anything unknown -> Method::Other. Case-sensitive like HTTP.
[[nodiscard]] Method parse_method(std::string_view text) noexcept;

inline constexpr std::string_view kJsonContentType = "application/json";
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";

struct QueryParam {
  std::string_view name;   // percent-decoded, '+' decoded to a space
  std::string_view value;  // percent-decoded; "" for "?flag"
};

struct HeaderField {
  std::string_view name;  // as sent
  std::string_view value;
};

// Percent-decodes `text` (and '+' to space when `plus_is_space`) onto the end of `out`.
// Malformed escapes ("%G1", a trailing "%") are kept literally. Never throws except bad_alloc.
void append_percent_decoded(std::string& out, std::string_view text, bool plus_is_space);

class Request {
 public:
  Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  [[nodiscard]] Method method() const noexcept { return method_; }
  [[nodiscard]] std::string_view method_string() const noexcept { return method_string_; }  // as sent
  [[nodiscard]] std::string_view target() const noexcept { return target_; }  // "/book/BTCUSDT?depth=20", as sent
  // Path before '?'; for an absolute-form target ("http://host/health") the part after the authority.
  [[nodiscard]] std::string_view path() const noexcept { return path_; }  // "/book/BTCUSDT", not decoded
  [[nodiscard]] std::string_view raw_query() const noexcept { return raw_query_; }  // "depth=20"
  // For a prefix route ("/book/"), the segment after the prefix ("BTCUSDT"), as sent; else "".
  [[nodiscard]] std::string_view path_param() const noexcept { return path_param_; }
  [[nodiscard]] std::span<const QueryParam> query_params() const noexcept { return query_; }
  // First parameter with that exact (decoded) name.
  [[nodiscard]] std::optional<std::string_view> query(std::string_view name) const noexcept;
  [[nodiscard]] std::span<const HeaderField> headers() const noexcept { return headers_; }
  // First header with that name, compared case-insensitively ("authorization" finds "Authorization").
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const noexcept;
  [[nodiscard]] std::string_view body() const noexcept { return body_; }
  [[nodiscard]] std::string_view remote_address() const noexcept { return remote_address_; }  // "127.0.0.1"
  [[nodiscard]] std::uint16_t remote_port() const noexcept { return remote_port_; }
  [[nodiscard]] int version() const noexcept { return version_; }  // 10 or 11
  [[nodiscard]] bool keep_alive() const noexcept { return keep_alive_; }

  // Filling in (the server does this per request; tests may too). The views must outlive the
  // handler call. reset() splits the target and decodes the query; it keeps buffer capacity.
  void reset(std::string_view method_string, std::string_view target, int version, bool keep_alive,
             std::string_view body);
  void add_header(std::string_view name, std::string_view value);
  void set_remote(std::string_view address, std::uint16_t port) noexcept;
  void set_path_param(std::string_view param) noexcept { path_param_ = param; }

 private:
  void parse_query();

  Method method_ = Method::Get;
  std::string_view method_string_;
  std::string_view target_;
  std::string_view path_;
  std::string_view raw_query_;
  std::string_view path_param_;
  std::string_view body_;
  std::string_view remote_address_;
  std::uint16_t remote_port_ = 0;
  int version_ = 11;
  bool keep_alive_ = true;
  std::vector<QueryParam> query_;
  std::vector<HeaderField> headers_;
  std::string decoded_;  // backing store for decoded query names/values; never reallocated mid-parse
};

class Response {
 public:
  int status = 200;
  std::string content_type{kJsonContentType};
  std::string body;
  // Ask the server to close the connection after this response.
  bool close_connection = false;

  // Adds "name: value". Refused (returns false) when the name is not an HTTP token, the value
  // holds CR, LF or NUL (header injection), or the name is one the server owns: Content-Length,
  // Transfer-Encoding, Connection, Date.
  bool add_header(std::string_view name, std::string_view value);
  // The extra headers already serialized as "Name: value\r\n" lines.
  [[nodiscard]] std::string_view extra_headers() const noexcept { return extra_headers_; }

  void set_json(int status_code, std::string_view json);
  void set_text(int status_code, std::string_view text);
  // {"error":"<message>"} with the message JSON-escaped.
  void set_error(int status_code, std::string_view message);
  // Back to 200, JSON, empty body, no extra headers; keeps capacity.
  void reset();

 private:
  std::string extra_headers_;
};

}  // namespace tb::http

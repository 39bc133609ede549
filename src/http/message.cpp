// Request parsing helpers and Response building; see message.hpp.
#include "tradingbot/http/message.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "tradingbot/http/json_writer.hpp"

namespace tb::http {

namespace {

constexpr std::array<std::string_view, kMethodCount> kMethodNames = {"GET",   "HEAD",    "POST", "PUT",
                                                                     "DELETE", "PATCH", "OPTIONS", "OTHER"};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// RFC 9110 token characters.
bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Decodes `text` onto `out` and returns a view of the appended part. The caller guarantees
// out.capacity() leaves room, so earlier views into `out` stay valid.
std::string_view decode_into(std::string& out, std::string_view text) {
  if (text.find_first_of("%+") == std::string_view::npos) return text;  // nothing to decode: view the input
  const std::size_t start = out.size();
  append_percent_decoded(out, text, true);
  return std::string_view(out).substr(start);
}

}  // namespace

std::string_view to_string(Method method) noexcept { return kMethodNames[static_cast<std::size_t>(method)]; }

Method parse_method(std::string_view text) noexcept {
  for (std::size_t i = 0; i + 1 < kMethodCount; ++i) {
    if (kMethodNames[i] == text) return static_cast<Method>(i);
  }
  return Method::Other;
}

void append_percent_decoded(std::string& out, std::string_view text, bool plus_is_space) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
}

void Request::reset(std::string_view method_string, std::string_view target, int version, bool keep_alive,
                    std::string_view body) {
  method_string_ = method_string;
  method_ = parse_method(method_string);
  target_ = target;
  version_ = version;
  keep_alive_ = keep_alive;
  body_ = body;
  path_param_ = {};
  headers_.clear();
  // Absolute-form ("http://host/path?q", RFC 9112 3.2.2) must be accepted: route on its path.
  if (!target.empty() && target.front() != '/') {
    const std::size_t scheme_end = target.find("://");
    if (scheme_end != std::string_view::npos) {
      const std::size_t path_start = target.find_first_of("/?", scheme_end + 3);
      target = path_start == std::string_view::npos ? std::string_view{} : target.substr(path_start);
    }
  }
  const std::size_t question = target.find('?');
  if (question == std::string_view::npos) {
    path_ = target;
    raw_query_ = {};
  } else {
    path_ = target.substr(0, question);
    raw_query_ = target.substr(question + 1);
  }
  // A fragment is never sent by a conforming client; drop it if one is.
  raw_query_ = raw_query_.substr(0, raw_query_.find('#'));
  parse_query();
}

void Request::parse_query() {
  query_.clear();
  decoded_.clear();
  if (raw_query_.empty()) return;
  decoded_.reserve(raw_query_.size());  // decoding never grows text, so views stay valid
  std::string_view rest = raw_query_;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t equals = pair.find('=');
    const std::string_view name = pair.substr(0, equals);
    const std::string_view value = equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
    const std::string_view decoded_name = decode_into(decoded_, name);
    const std::string_view decoded_value = decode_into(decoded_, value);
    query_.push_back(QueryParam{decoded_name, decoded_value});
  }
}

std::optional<std::string_view> Request::query(std::string_view name) const noexcept {
  for (const QueryParam& param : query_) {
    if (param.name == name) return param.value;
  }
  return std::nullopt;
}

void Request::add_header(std::string_view name, std::string_view value) { headers_.push_back(HeaderField{name, value}); }

std::optional<std::string_view> Request::header(std::string_view name) const noexcept {
  for (const HeaderField& field : headers_) {
    if (iequals(field.name, name)) return field.value;
  }
  return std::nullopt;
}

void Request::set_remote(std::string_view address, std::uint16_t port) noexcept {
  remote_address_ = address;
  remote_port_ = port;
}

bool Response::add_header(std::string_view name, std::string_view value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) return false;
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) return false;
  for (const std::string_view owned : {"Content-Length", "Transfer-Encoding", "Connection", "Date"}) {
    if (iequals(name, owned)) return false;
  }
  extra_headers_.append(name).append(": ", 2).append(value).append("\r\n", 2);
  return true;
}

void Response::set_json(int status_code, std::string_view json) {
  status = status_code;
  content_type.assign(kJsonContentType);
  body.assign(json);
}

void Response::set_text(int status_code, std::string_view text) {
  status = status_code;
  content_type.assign(kTextContentType);
  body.assign(text);
}

void Response::set_error(int status_code, std::string_view message) {
  status = status_code;
  content_type.assign(kJsonContentType);
  body.assign("{\"error\":\"");
  JsonWriter::append_escaped(body, message);
  body.append("\"}");
}

void Response::reset() {
  status = 200;
  content_type.assign(kJsonContentType);
  body.clear();
  close_connection = false;
  extra_headers_.clear();
}

}  // namespace tb::http

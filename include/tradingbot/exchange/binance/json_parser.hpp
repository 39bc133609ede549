// JsonParser: one reusable simdjson parser plus a padded copy buffer, so parsing a response
// allocates nothing once the buffers have grown to the largest message (simdjson's "reuse one
// parser per connection"). simdjson stays out of this header so modules that only use the
// decoded structs never include it.
// One JsonParser per thread (or per connection); the decoded views it hands out are valid until
// its next parse.
#pragma once

#include <memory>

namespace tb::binance {

class JsonParser {
 public:
  JsonParser();
  ~JsonParser();
  JsonParser(JsonParser&&) noexcept;
  JsonParser& operator=(JsonParser&&) noexcept;
  JsonParser(const JsonParser&) = delete;
  JsonParser& operator=(const JsonParser&) = delete;

  struct Impl;
  [[nodiscard]] Impl& impl() noexcept { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tb::binance

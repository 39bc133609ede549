// Result<T>: a value or an error message, for start-up and control paths where the caller must
// show a person what went wrong (config loading, CLI, control requests). Hot paths use small
// status enums instead (STYLE.md habit 5). Value type: any thread.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tb {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  [[nodiscard]] bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] T& value() & { return std::get<0>(state_); }
  [[nodiscard]] const T& value() const& { return std::get<0>(state_); }
  [[nodiscard]] T&& value() && { return std::get<0>(std::move(state_)); }
  [[nodiscard]] const Error& error() const& { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

}  // namespace tb

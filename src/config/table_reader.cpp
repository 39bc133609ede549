#include "tradingbot/config/table_reader.hpp"

#include <algorithm>
#include <sstream>

namespace tb::config {

std::string render(const toml::node& node) {
  std::ostringstream out;
  node.visit([&out](const auto& value) { out << value; });
  return out.str();
}

void fail(std::string_view key, const toml::node* node, std::string_view reason) {
  std::string message(key);
  if (node != nullptr) message += " = " + render(*node);
  message += ": ";
  message += reason;
  throw ConfigError(message);
}

TableReader::TableReader(const toml::table& root, std::string name) : name_(std::move(name)) {
  const toml::node* node = root.get(name_);
  if (node == nullptr) return;
  table_ = node->as_table();
  if (table_ == nullptr) fail(name_, node, "expected a table ([" + name_ + "])");
}

void TableReader::string(std::string_view key, std::string& out,
                         const std::function<std::string(const std::string&)>& check) {
  const toml::node* node = take(key);
  if (node == nullptr) return;
  const auto* value = node->as_string();
  if (value == nullptr) fail(full(key), node, "expected a string");
  if (check) {
    if (std::string why = check(value->get()); !why.empty()) fail(full(key), node, why);
  }
  out = value->get();
}

void TableReader::integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) {
  const toml::node* node = take(key);
  if (node == nullptr) return;
  const auto* value = node->as_integer();
  if (value == nullptr) fail(full(key), node, "expected an integer");
  if (value->get() < min || value->get() > max) {
    fail(full(key), node, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  out = value->get();
}

void TableReader::string_list(std::string_view key, std::vector<std::string>& out, bool allow_empty,
                              const std::function<std::string(const std::string&)>& check) {
  const toml::node* node = take(key);
  if (node == nullptr) return;
  const auto* array = node->as_array();
  if (array == nullptr) fail(full(key), node, "expected an array of strings");
  if (array->empty() && !allow_empty) fail(full(key), node, "must not be empty");
  std::vector<std::string> values;
  for (const toml::node& element : *array) {
    const auto* text = element.as_string();
    if (text == nullptr) fail(full(key), node, "expected an array of strings");
    if (std::string why = check(text->get()); !why.empty()) {
      fail(full(key), node, "\"" + text->get() + "\" " + why);
    }
    if (std::find(values.begin(), values.end(), text->get()) != values.end()) {
      fail(full(key), node, "\"" + text->get() + "\" is listed twice");
    }
    values.push_back(text->get());
  }
  out = std::move(values);
}

void TableReader::boolean(std::string_view key, bool& out) {
  const toml::node* node = take(key);
  if (node == nullptr) return;
  const auto* value = node->as_boolean();
  if (value == nullptr) fail(full(key), node, "expected true or false");
  out = value->get();
}

TableReader TableReader::child(std::string_view key) {
  const toml::node* node = take(key);
  if (node != nullptr && node->as_table() == nullptr) fail(full(key), node, "expected a table");
  return TableReader(node != nullptr ? node->as_table() : nullptr, full(key));
}

const toml::node* TableReader::take(std::string_view key) {
  consumed_.insert(std::string(key));
  return table_ == nullptr ? nullptr : table_->get(key);
}

void TableReader::finish() const {
  if (table_ == nullptr) return;
  for (const auto& [key, node] : *table_) {
    if (consumed_.count(std::string(key.str())) == 0) fail(full(key.str()), nullptr, "unknown key");
  }
}

}  // namespace tb::config

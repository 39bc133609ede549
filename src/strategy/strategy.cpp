#include "tradingbot/strategy/strategy.hpp"

namespace tb::strategy {

std::string_view to_string(IntentKind k) noexcept {
  switch (k) {
    case IntentKind::Place: return "place";
    case IntentKind::Cancel: return "cancel";
    case IntentKind::Replace: return "replace";
  }
  return "?";
}

std::string_view to_string(OrderEvent e) noexcept {
  switch (e) {
    case OrderEvent::Working: return "working";
    case OrderEvent::Done: return "done";
    case OrderEvent::Rejected: return "rejected";
  }
  return "?";
}

}  // namespace tb::strategy

#include "tradingbot/store/recovery.hpp"

namespace tb::store {

std::string_view to_string(RecoveredState::Source source) noexcept {
  switch (source) {
    case RecoveredState::Source::Empty: return "empty";
    case RecoveredState::Source::Database: return "database";
    case RecoveredState::Source::DatabaseAndJournal: return "database+journal";
    case RecoveredState::Source::Journal: return "journal";
    case RecoveredState::Source::JournalPartial: return "journal (database unreachable; may be partial)";
  }
  return "?";
}

std::string RecoveredState::describe() const {
  return "recovered from " + std::string(to_string(source)) + ": " + std::to_string(open_orders.size()) +
         " open orders, " + std::to_string(positions.size()) + " positions, " + std::to_string(balances.size()) +
         " balances, last fills for " + std::to_string(last_fills.size()) + " symbols (database at seq " +
         std::to_string(db_seq) + ", " + std::to_string(journal_records_applied) + " journal records applied)";
}

void RecoveryBuilder::set_order(const OrderRecord& r) {
  const std::string key(r.client_order_id.view());
  if (is_terminal(r.status)) {
    orders_.erase(key);
  } else {
    orders_[key] = r;
  }
}

void RecoveryBuilder::note_fill(const Symbol& symbol, std::int64_t trade_id, Nanos trade_time_ns) {
  auto& last = fills_[symbol];
  last.symbol = symbol;
  if (trade_id > last.trade_id) last.trade_id = trade_id;
  if (trade_time_ns > last.trade_time_ns) last.trade_time_ns = trade_time_ns;
}

void RecoveryBuilder::apply(const StoreRecord& record) {
  std::visit(
      [this](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, OrderRecord>) {
          set_order(r);
        } else if constexpr (std::is_same_v<T, FillRecord>) {
          note_fill(r.symbol, r.trade_id, r.trade_time_ns);
        } else if constexpr (std::is_same_v<T, PositionRecord>) {
          set_position(r);
        } else if constexpr (std::is_same_v<T, BalanceRecord>) {
          set_balance(r);
        }
      },
      record);
}

bool RecoveryBuilder::empty() const noexcept {
  return orders_.empty() && positions_.empty() && balances_.empty() && fills_.empty();
}

RecoveredState RecoveryBuilder::build(RecoveredState::Source source) const {
  RecoveredState state;
  state.source = source;
  for (const auto& [key, order] : orders_) state.open_orders.push_back(order);
  for (const auto& [key, position] : positions_) state.positions.push_back(position);
  for (const auto& [key, balance] : balances_) state.balances.push_back(balance);
  for (const auto& [key, fill] : fills_) state.last_fills.push_back(fill);
  return state;
}

}  // namespace tb::store

// Restart recovery: what the bot held and which orders were open when it stopped, rebuilt from
// the database (as of the highest journal sequence it committed) plus every journal record
// after that, or from the journal alone when there is no database or it is unreachable.
// The oms takes RecoveredState, then reconciles it against the exchange (open orders, account,
// myTrades from last_fills[i].trade_id + 1) before the strategy arms: the exchange stays the
// source of truth, the store tells it where to look.
// RecoveryBuilder: one thread at a time (the main thread at start-up, via Store::recover()).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tradingbot/store/records.hpp"

namespace tb::store {

struct LastFill {
  Symbol symbol;
  std::int64_t trade_id = 0;   // highest trade id stored for the symbol
  Nanos trade_time_ns = 0;     // latest trade time stored for the symbol
};

struct RecoveredState {
  enum class Source : std::uint8_t {
    Empty,               // nothing stored yet
    Database,            // database, journal had nothing newer
    DatabaseAndJournal,  // database plus journal records it had not committed yet
    Journal,             // journal only (no database configured)
    JournalPartial,      // journal only because the database is unreachable; older records that
                         // were already pruned from the journal are missing: reconcile carefully
  };
  Source source = Source::Empty;
  std::vector<OrderRecord> open_orders;  // latest state of every non-terminal order
  std::vector<PositionRecord> positions; // latest per symbol
  std::vector<BalanceRecord> balances;   // latest per asset
  std::vector<LastFill> last_fills;      // per symbol
  std::uint64_t db_seq = 0;              // journal sequence the database state reflects
  std::uint64_t journal_records_applied = 0;
  std::string describe() const;          // one log line
};

std::string_view to_string(RecoveredState::Source source) noexcept;

// Folds records (oldest first) into the latest state per key.
class RecoveryBuilder {
 public:
  void apply(const StoreRecord& record);
  void set_order(const OrderRecord& r);
  void set_position(const PositionRecord& r) { positions_[r.symbol] = r; }
  void set_balance(const BalanceRecord& r) { balances_[std::string(r.asset.view())] = r; }
  void note_fill(const Symbol& symbol, std::int64_t trade_id, Nanos trade_time_ns);
  [[nodiscard]] bool empty() const noexcept;
  RecoveredState build(RecoveredState::Source source) const;

 private:
  std::map<std::string, OrderRecord> orders_;  // open ones only
  std::map<Symbol, PositionRecord> positions_;
  std::map<std::string, BalanceRecord> balances_;
  std::map<Symbol, LastFill> fills_;
};

}  // namespace tb::store

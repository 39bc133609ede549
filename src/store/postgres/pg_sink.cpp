#include <array>
#include <charconv>
#include <chrono>
#include <tuple>

#include <spdlog/spdlog.h>

#include "pg_sink.hpp"

namespace tb::store::detail {
namespace {

constexpr std::string_view kStaging = R"SQL(
CREATE TEMP TABLE IF NOT EXISTS stage_orders (
  seq bigint, client_order_id text, exchange_order_id bigint, symbol text, side text, type text, tif text,
  status text, price bigint, qty bigint, filled_qty bigint, cum_quote bigint, reason text, event_ns bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_fills_v2 (
  seq bigint, symbol text, trade_id bigint, client_order_id text, exchange_order_id bigint, side text,
  is_maker boolean, price numeric, qty numeric, quote_qty numeric, commission numeric, commission_asset text,
  trade_ns bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_positions (
  seq bigint, symbol text, qty bigint, avg_entry_price bigint, realized_pnl bigint, update_ns bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_balances (
  seq bigint, asset text, free bigint, locked bigint, update_ns bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_equity (
  seq bigint, quote_asset text, equity bigint, realized_pnl bigint, unrealized_pnl bigint, sample_ns bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_klines (
  seq bigint, symbol text, interval text, open_ns bigint, close_ns bigint, open bigint, high bigint, low bigint,
  close bigint, volume bigint, quote_volume bigint, trades bigint
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_runs (
  seq bigint, run_id text, event text, version text, config_hash text, pid integer, detail text, time_ns bigint
) ON COMMIT DELETE ROWS;
)SQL";

constexpr std::string_view kOrderColumns =
    "client_order_id, exchange_order_id, symbol, side, type, time_in_force, status, price, qty, filled_qty, "
    "cum_quote, reason, event_time";
constexpr std::string_view kOrderSelect =
    "client_order_id, exchange_order_id, symbol, side, type, tif, status, tb_fx(price), tb_fx(qty), "
    "tb_fx(filled_qty), tb_fx(cum_quote), reason, tb_ts(event_ns)";

const std::string& insert_orders_sql() {
  static const std::string sql =
      "INSERT INTO orders (" + std::string(kOrderColumns) + ") SELECT " + std::string(kOrderSelect) +
      " FROM stage_orders ORDER BY seq";
  return sql;
}
const std::string& upsert_order_state_sql() {
  static const std::string sql =
      "INSERT INTO order_state (" + std::string(kOrderColumns) + ") SELECT DISTINCT ON (client_order_id) " +
      std::string(kOrderSelect) +
      " FROM stage_orders ORDER BY client_order_id, seq DESC ON CONFLICT (client_order_id) DO UPDATE SET "
      "exchange_order_id = CASE WHEN EXCLUDED.exchange_order_id <> 0 THEN EXCLUDED.exchange_order_id "
      "ELSE order_state.exchange_order_id END, symbol = EXCLUDED.symbol, side = EXCLUDED.side, type = EXCLUDED.type, "
      "time_in_force = EXCLUDED.time_in_force, status = EXCLUDED.status, price = EXCLUDED.price, qty = EXCLUDED.qty, "
      "filled_qty = EXCLUDED.filled_qty, cum_quote = EXCLUDED.cum_quote, reason = EXCLUDED.reason, "
      "event_time = EXCLUDED.event_time, updated_at = now()";
  return sql;
}

// Fills are the volume kind (>= 50,000/s, bench/store): their decimals arrive as exact decimal
// text (no per-row multiply on the server) and the rows as one COPY message per batch.
constexpr std::string_view kInsertFills =
    "INSERT INTO fills (symbol, trade_id, client_order_id, exchange_order_id, side, is_maker, price, qty, quote_qty, "
    "commission, commission_asset, trade_time) SELECT symbol, trade_id, client_order_id, exchange_order_id, side, "
    "is_maker, price, qty, quote_qty, commission, commission_asset, tb_ts(trade_ns) "
    "FROM stage_fills_v2 ORDER BY seq ON CONFLICT (symbol, trade_id) DO NOTHING";
constexpr std::string_view kUpsertPositions =
    "INSERT INTO positions (symbol, qty, avg_entry_price, realized_pnl, updated_at) "
    "SELECT DISTINCT ON (symbol) symbol, tb_fx(qty), tb_fx(avg_entry_price), tb_fx(realized_pnl), tb_ts(update_ns) "
    "FROM stage_positions ORDER BY symbol, seq DESC ON CONFLICT (symbol) DO UPDATE SET qty = EXCLUDED.qty, "
    "avg_entry_price = EXCLUDED.avg_entry_price, realized_pnl = EXCLUDED.realized_pnl, updated_at = EXCLUDED.updated_at";
constexpr std::string_view kUpsertBalances =
    "INSERT INTO balances (asset, free, locked, updated_at) "
    "SELECT DISTINCT ON (asset) asset, tb_fx(free), tb_fx(locked), tb_ts(update_ns) "
    "FROM stage_balances ORDER BY asset, seq DESC ON CONFLICT (asset) DO UPDATE SET free = EXCLUDED.free, "
    "locked = EXCLUDED.locked, updated_at = EXCLUDED.updated_at";
constexpr std::string_view kInsertEquity =
    "INSERT INTO equity_samples (quote_asset, sample_time, equity, realized_pnl, unrealized_pnl) "
    "SELECT quote_asset, tb_ts(sample_ns), tb_fx(equity), tb_fx(realized_pnl), tb_fx(unrealized_pnl) "
    "FROM stage_equity ORDER BY seq ON CONFLICT DO NOTHING";
constexpr std::string_view kInsertKlines =
    "INSERT INTO klines (symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume, trades) "
    "SELECT symbol, interval, tb_ts(open_ns), tb_ts(close_ns), tb_fx(open), tb_fx(high), tb_fx(low), tb_fx(close), "
    "tb_fx(volume), tb_fx(quote_volume), trades FROM stage_klines ORDER BY seq ON CONFLICT DO NOTHING";
constexpr std::string_view kInsertRunStarts =
    "INSERT INTO runs (run_id, started_at, version, config_hash, pid) "
    "SELECT run_id, tb_ts(time_ns), version, config_hash, pid FROM stage_runs WHERE event = 'START' ORDER BY seq "
    "ON CONFLICT (run_id) DO NOTHING";
constexpr std::string_view kUpsertRunStops =
    "INSERT INTO runs (run_id, started_at, stopped_at, version, config_hash, pid, stop_detail) "
    "SELECT DISTINCT ON (run_id) run_id, tb_ts(time_ns), tb_ts(time_ns), version, config_hash, pid, detail "
    "FROM stage_runs WHERE event = 'STOP' ORDER BY run_id, seq DESC "
    "ON CONFLICT (run_id) DO UPDATE SET stopped_at = EXCLUDED.stopped_at, stop_detail = EXCLUDED.stop_detail";

// Text into PostgreSQL must be valid UTF-8 without NUL: a record that PostgreSQL refuses would
// block the pipeline forever, so invalid bytes become '?'.
bool valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || c == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Keeps valid text as is; replaces bytes of invalid text that are not printable ASCII.
template <std::size_t N>
std::string text(const FixedString<N>& s) {
  std::string out(s.view());
  if (!valid_utf8(out)) {
    for (char& c : out) {
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') c = '?';
    }
  }
  return out;
}
std::string text(const Symbol& s) {
  FixedString<Symbol::kMaxLength> f(s.view());
  return text(f);
}

// ---- COPY text format, written straight into one reusable buffer (no per-row allocation) ----

void copy_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// A 1e-8 fixed-point raw value as exact decimal text: -123.45000000.
void copy_fixed(std::string& out, std::int64_t raw) {
  constexpr std::uint64_t kScale = 100'000'000;
  std::uint64_t u = raw < 0 ? 0 - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
  if (raw < 0) out += '-';
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), u / kScale);
  (void)ec;
  out.append(buf, static_cast<std::size_t>(end - buf));
  out += '.';
  std::uint64_t frac = u % kScale;
  char digits[8];
  for (int i = 7; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  out.append(digits, sizeof(digits));
}

// Text escaped for COPY (backslash, tab, newline, CR); invalid UTF-8 bytes become '?' so that
// PostgreSQL never refuses a record (that would block the pipeline forever).
void copy_text(std::string& out, std::string_view v) {
  const bool valid = valid_utf8(v);
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (!valid && (u >= 0x80 || u == 0)) {
      out += '?';
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
}

const char* side_text(Side s) noexcept { return s == Side::Buy ? "BUY" : "SELL"; }
const char* cstr(std::string_view v) noexcept { return v.data(); }  // only for literal-backed views

// libpq's messages end in a newline (sometimes a space too): the store logs them in one line.
std::string message_of(const std::exception& e) {
  std::string text = e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string month_of_now() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  return buf;
}

}  // namespace

PgSink::PgSink(const SinkOptions& options)
    : conninfo_(options.conninfo),
      journal_id_(options.journal_id),
      connect_timeout_s_(options.connect_timeout_s),
      statement_timeout_ms_(options.statement_timeout_ms) {}

void PgSink::disconnect() noexcept {
  if (conn_ == nullptr) return;
  try {
    conn_->disconnect();
  } catch (...) {
  }
  conn_.reset();
}

bool PgSink::connect(std::string& error) {
  disconnect();
  try {
    auto conn = std::make_unique<pqxx::connection>(effective_conninfo(conninfo_, connect_timeout_s_));
    {
      pqxx::nontransaction nt(*conn);
      nt.exec("SET statement_timeout = " + std::to_string(statement_timeout_ms_));
      nt.exec("SET lock_timeout = " + std::to_string(statement_timeout_ms_));
      // Every record is fsync'd in the journal before it is sent, and store_progress commits
      // in the same transaction as the records, so a commit lost in a database crash is simply
      // backfilled again (applied_seq is re-read on reconnect). The journal checkpoint, which
      // lets segments be pruned, only advances after confirm_durable() (a synchronous commit,
      // which flushes the WAL of every earlier asynchronous one). So: no WAL flush wait per batch.
      nt.exec("SET synchronous_commit = off");
    }
    const SchemaState before = schema_state(*conn);
    if (before.newer_than_binary()) {
      error = "database " + before.describe() + ": refusing to write; upgrade tradingbot";
      return false;
    }
    if (!before.up_to_date()) {
      const SchemaState after = apply_migrations(*conn, latest_schema_version());
      spdlog::info("store: migrated database from schema version {} to {}", before.current, after.current);
    }
    pqxx::work tx(*conn);
    tx.exec(std::string(kStaging));
    const auto row = tx.exec("SELECT applied_seq FROM store_progress WHERE journal_id = " + tx.quote(journal_id_));
    applied_seq_ = row.empty() ? 0 : row[0][0].as<std::uint64_t>();
    tx.exec("SELECT tb_ensure_kline_partitions(now(), 2)");
    tx.commit();
    kline_month_ = month_of_now();
    conn_ = std::move(conn);
    return true;
  } catch (const std::exception& e) {
    error = message_of(e);
    return false;
  }
}

bool PgSink::write(const SequencedRecord* records, std::size_t count, std::string& error) {
  if (conn_ == nullptr) {
    error = "not connected";
    return false;
  }
  if (count == 0) return true;
  try {
    std::array<std::size_t, kRecordKinds> counts{};
    for (std::size_t i = 0; i < count; ++i) ++counts[records[i].record.index()];
    auto has = [&](RecordKind k) { return counts[static_cast<std::size_t>(k)] != 0; };

    // Notice a connection the server closed (shutdown, crash, restart) before BEGIN: libpqxx
    // 6.4 leaks the PGresult of a BEGIN that fails on a dead connection (seen under LSan).
    // get_notifs() reads what the socket holds and throws broken_connection on EOF.
    conn_->get_notifs();
    pqxx::work tx(*conn_);
    if (has(RecordKind::Kline) && month_of_now() != kline_month_) {
      tx.exec("SELECT tb_ensure_kline_partitions(now(), 2)");
    }
    // One COPY stream per kind present, in journal order within the kind.
    auto stream = [&](RecordKind kind, const char* table, auto&& row_of) {
      if (!has(kind)) return;
      pqxx::stream_to out(tx, table);
      for (std::size_t i = 0; i < count; ++i) {
        if (records[i].record.index() != static_cast<std::size_t>(kind)) continue;
        row_of(out, records[i].seq, records[i].record);
      }
      out.complete();
    };
    stream(RecordKind::Order, "stage_orders", [](pqxx::stream_to& out, std::uint64_t seq, const StoreRecord& r) {
      const auto& o = std::get<OrderRecord>(r);
      out << std::make_tuple(seq, text(o.client_order_id), o.exchange_order_id, text(o.symbol), side_text(o.side),
                             cstr(to_string(o.type)), cstr(to_string(o.tif)), cstr(to_string(o.status)), o.price.raw(),
                             o.qty.raw(), o.filled_qty.raw(), o.cum_quote.raw(), text(o.reason), o.event_time_ns);
    });
    if (has(RecordKind::Fill)) {
      // The whole batch as one COPY data message: COPY messages need not align with rows.
      copy_buffer_.clear();
      for (std::size_t i = 0; i < count; ++i) {
        const auto* f = std::get_if<FillRecord>(&records[i].record);
        if (f == nullptr) continue;
        if (!copy_buffer_.empty()) copy_buffer_ += '\n';
        copy_int(copy_buffer_, static_cast<std::int64_t>(records[i].seq));
        copy_buffer_ += '\t';
        copy_text(copy_buffer_, f->symbol.view());
        copy_buffer_ += '\t';
        copy_int(copy_buffer_, f->trade_id);
        copy_buffer_ += '\t';
        copy_text(copy_buffer_, f->client_order_id.view());
        copy_buffer_ += '\t';
        copy_int(copy_buffer_, f->exchange_order_id);
        copy_buffer_ += '\t';
        copy_buffer_ += side_text(f->side);
        copy_buffer_ += f->is_maker ? "\tt\t" : "\tf\t";
        copy_fixed(copy_buffer_, f->price.raw());
        copy_buffer_ += '\t';
        copy_fixed(copy_buffer_, f->qty.raw());
        copy_buffer_ += '\t';
        copy_fixed(copy_buffer_, f->quote_qty.raw());
        copy_buffer_ += '\t';
        copy_fixed(copy_buffer_, f->commission.raw());
        copy_buffer_ += '\t';
        copy_text(copy_buffer_, f->commission_asset.view());
        copy_buffer_ += '\t';
        copy_int(copy_buffer_, f->trade_time_ns);
      }
      // libpqxx 6.4 keeps stream_to's raw line writer private; tablewriter's is public (it is
      // marked deprecated in favour of stream_to, which cannot send pre-formatted rows).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
      pqxx::tablewriter out(tx, "stage_fills_v2");
#pragma GCC diagnostic pop
      out.write_raw_line(copy_buffer_);  // appends the final newline
      out.complete();
    }
    stream(RecordKind::Position, "stage_positions", [](pqxx::stream_to& out, std::uint64_t seq, const StoreRecord& r) {
      const auto& p = std::get<PositionRecord>(r);
      out << std::make_tuple(seq, text(p.symbol), p.qty.raw(), p.avg_entry_price.raw(), p.realized_pnl.raw(),
                             p.update_time_ns);
    });
    stream(RecordKind::Balance, "stage_balances", [](pqxx::stream_to& out, std::uint64_t seq, const StoreRecord& r) {
      const auto& b = std::get<BalanceRecord>(r);
      out << std::make_tuple(seq, text(b.asset), b.free.raw(), b.locked.raw(), b.update_time_ns);
    });
    stream(RecordKind::Equity, "stage_equity", [](pqxx::stream_to& out, std::uint64_t seq, const StoreRecord& r) {
      const auto& e = std::get<EquitySample>(r);
      out << std::make_tuple(seq, text(e.quote_asset), e.equity.raw(), e.realized_pnl.raw(), e.unrealized_pnl.raw(),
                             e.sample_time_ns);
    });
    stream(RecordKind::Kline, "stage_klines", [](pqxx::stream_to& out, std::uint64_t seq, const StoreRecord& r) {
      const auto& k = std::get<KlineRecord>(r);
      out << std::make_tuple(seq, text(k.symbol), text(k.interval), k.open_time_ns, k.close_time_ns, k.open.raw(),
                             k.high.raw(), k.low.raw(), k.close.raw(), k.volume.raw(), k.quote_volume.raw(), k.trades);
    });
    stream(RecordKind::Run, "stage_runs", [](pqxx::stream_to& out, std::uint64_t seq, const StoreRecord& r) {
      const auto& run = std::get<RunRecord>(r);
      out << std::make_tuple(seq, text(run.run_id), run.event == RunEvent::Start ? "START" : "STOP",
                             text(run.version), text(run.config_hash), run.pid, text(run.detail), run.time_ns);
    });

    if (has(RecordKind::Order)) {
      tx.exec(insert_orders_sql());
      tx.exec(upsert_order_state_sql());
    }
    if (has(RecordKind::Fill)) tx.exec(std::string(kInsertFills));
    if (has(RecordKind::Position)) tx.exec(std::string(kUpsertPositions));
    if (has(RecordKind::Balance)) tx.exec(std::string(kUpsertBalances));
    if (has(RecordKind::Equity)) tx.exec(std::string(kInsertEquity));
    if (has(RecordKind::Kline)) tx.exec(std::string(kInsertKlines));
    if (has(RecordKind::Run)) {
      tx.exec(std::string(kInsertRunStarts));
      tx.exec(std::string(kUpsertRunStops));
    }
    const std::uint64_t last = records[count - 1].seq;
    tx.exec("INSERT INTO store_progress (journal_id, applied_seq) VALUES (" + tx.quote(journal_id_) + ", " +
            std::to_string(last) +
            ") ON CONFLICT (journal_id) DO UPDATE SET applied_seq = EXCLUDED.applied_seq, updated_at = now()");
    tx.commit();
    applied_seq_ = last;
    if (has(RecordKind::Kline)) kline_month_ = month_of_now();
    return true;
  } catch (const std::exception& e) {
    error = message_of(e);
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr && !sql->sqlstate().empty()) {
      error += " (SQLSTATE " + sql->sqlstate() + ")";
    }
    // Whatever happened, start from a clean connection (and re-read applied_seq on reconnect:
    // a commit whose answer was lost may have landed).
    disconnect();
    return false;
  }
}

bool PgSink::check_alive(std::string& error) {
  if (conn_ == nullptr) {
    error = "not connected";
    return false;
  }
  try {
    conn_->get_notifs();  // throws broken_connection on EOF
    if (conn_->is_open()) return true;
    error = "connection closed by the server";
  } catch (const std::exception& e) {
    error = message_of(e);
  }
  disconnect();
  return false;
}

bool PgSink::confirm_durable(std::string& error) {
  if (conn_ == nullptr) {
    error = "not connected";
    return false;
  }
  try {
    pqxx::work tx(*conn_);
    tx.exec("SET LOCAL synchronous_commit = on");
    tx.exec("UPDATE store_progress SET updated_at = now() WHERE journal_id = " + tx.quote(journal_id_));
    tx.commit();
    return true;
  } catch (const std::exception& e) {
    error = message_of(e);
    disconnect();
    return false;
  }
}

bool PgSink::load_state(RecoveryBuilder& builder, std::string& error) {
  if (conn_ == nullptr) {
    error = "not connected";
    return false;
  }
  try {
    pqxx::read_transaction tx(*conn_);
    auto ns = [](const char* column) {
      return std::string("(extract(epoch FROM ") + column + ") * 1000000000)::bigint";
    };
    auto raw = [](const char* column) { return std::string("(") + column + " * 100000000)::bigint"; };
    const auto orders = tx.exec(
        "SELECT client_order_id, exchange_order_id, symbol, side, type, time_in_force, status, " + raw("price") + ", " +
        raw("qty") + ", " + raw("filled_qty") + ", " + raw("cum_quote") + ", reason, " + ns("event_time") +
        " FROM open_orders ORDER BY event_time, client_order_id");
    for (const auto& row : orders) {
      OrderRecord o;
      o.client_order_id.assign(row[0].c_str());
      o.exchange_order_id = row[1].as<std::int64_t>();
      o.symbol = Symbol::parse(row[2].c_str()).value_or(Symbol{});
      o.side = parse_side(row[3].c_str()).value_or(Side::Buy);
      o.type = parse_order_type(row[4].c_str()).value_or(OrderType::Limit);
      o.tif = parse_time_in_force(row[5].c_str()).value_or(TimeInForce::None);
      o.status = parse_order_status(row[6].c_str()).value_or(OrderStatus::New);
      o.price = Price::from_raw(row[7].as<std::int64_t>());
      o.qty = Qty::from_raw(row[8].as<std::int64_t>());
      o.filled_qty = Qty::from_raw(row[9].as<std::int64_t>());
      o.cum_quote = Money::from_raw(row[10].as<std::int64_t>());
      o.reason.assign(row[11].c_str());
      o.event_time_ns = row[12].as<std::int64_t>();
      builder.set_order(o);
    }
    const auto positions = tx.exec("SELECT symbol, " + raw("qty") + ", " + raw("avg_entry_price") + ", " +
                                   raw("realized_pnl") + ", " + ns("updated_at") + " FROM positions");
    for (const auto& row : positions) {
      PositionRecord p;
      p.symbol = Symbol::parse(row[0].c_str()).value_or(Symbol{});
      p.qty = Qty::from_raw(row[1].as<std::int64_t>());
      p.avg_entry_price = Price::from_raw(row[2].as<std::int64_t>());
      p.realized_pnl = Money::from_raw(row[3].as<std::int64_t>());
      p.update_time_ns = row[4].as<std::int64_t>();
      builder.set_position(p);
    }
    const auto balances = tx.exec("SELECT asset, " + raw("free") + ", " + raw("locked") + ", " + ns("updated_at") +
                                  " FROM balances");
    for (const auto& row : balances) {
      BalanceRecord b;
      b.asset.assign(row[0].c_str());
      b.free = Qty::from_raw(row[1].as<std::int64_t>());
      b.locked = Qty::from_raw(row[2].as<std::int64_t>());
      b.update_time_ns = row[3].as<std::int64_t>();
      builder.set_balance(b);
    }
    const auto fills = tx.exec("SELECT symbol, max(trade_id), " + ns("max(trade_time)") + " FROM fills GROUP BY symbol");
    for (const auto& row : fills) {
      if (auto symbol = Symbol::parse(row[0].c_str())) {
        builder.note_fill(*symbol, row[1].as<std::int64_t>(), row[2].as<std::int64_t>());
      }
    }
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    disconnect();
    return false;
  }
}

}  // namespace tb::store::detail

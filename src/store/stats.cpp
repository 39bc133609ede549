#include "tradingbot/store/stats.hpp"

#include <string_view>

namespace tb::store {

StoreStatsSnapshot StoreStats::snapshot() const noexcept {
  constexpr auto r = std::memory_order_relaxed;
  StoreStatsSnapshot s;
  s.enqueued = enqueued.load(r);
  s.queue_full = queue_full.load(r);
  s.overflowed = overflowed.load(r);
  s.overflow_depth = overflow_depth.load(r);
  s.dropped_samples = dropped_samples.load(r);
  s.lost = lost.load(r);
  s.queue_depth = queue_depth.load(r);
  s.journaled = journaled.load(r);
  s.journal_seq = journal_seq.load(r);
  s.db_seq = db_seq.load(r);
  s.db_durable_seq = db_durable_seq.load(r);
  s.db_written = db_written.load(r);
  s.backfilled = backfilled.load(r);
  s.db_errors = db_errors.load(r);
  s.journal_bytes = journal_bytes.load(r);
  s.journal_truncated_bytes = journal_truncated_bytes.load(r);
  s.db_enabled = db_enabled.load(r);
  s.db_up = db_up.load(r);
  s.db_down_since_wall_ns = db_down_since_wall_ns.load(r);
  s.last_db_commit_wall_ns = last_db_commit_wall_ns.load(r);
  return s;
}

namespace {
void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help, std::uint64_t value) {
  out += "# HELP tradingbot_store_";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE tradingbot_store_";
  out += name;
  out += ' ';
  out += type;
  out += "\ntradingbot_store_";
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}
}  // namespace

std::string to_prometheus(const StoreStatsSnapshot& s) {
  std::string out;
  metric(out, "enqueued_total", "counter", "Records accepted from the trading thread.", s.enqueued);
  metric(out, "queue_full_total", "counter", "Enqueues that found the store ring full.", s.queue_full);
  metric(out, "overflowed_total", "counter", "Critical records parked in the in-memory overflow.", s.overflowed);
  metric(out, "overflow_depth", "gauge", "Records waiting in the overflow.", s.overflow_depth);
  metric(out, "dropped_samples_total", "counter", "Kline/equity samples dropped on a full ring.", s.dropped_samples);
  metric(out, "lost_total", "counter", "Critical records lost (must be 0).", s.lost);
  metric(out, "queue_depth", "gauge", "Records waiting in the ring.", s.queue_depth);
  metric(out, "journaled_total", "counter", "Records appended to the local journal.", s.journaled);
  metric(out, "journal_seq", "gauge", "Highest journal sequence fsync'd.", s.journal_seq);
  metric(out, "db_seq", "gauge", "Highest journal sequence committed to PostgreSQL.", s.db_seq);
  metric(out, "db_durable_seq", "gauge", "Highest journal sequence durably committed to PostgreSQL.", s.db_durable_seq);
  metric(out, "lag_records", "gauge", "Journaled records not yet in PostgreSQL.", s.lag_records());
  metric(out, "db_written_total", "counter", "Records committed to PostgreSQL.", s.db_written);
  metric(out, "backfilled_total", "counter", "Records committed from the journal after an outage.", s.backfilled);
  metric(out, "db_errors_total", "counter", "Failed database connects or transactions.", s.db_errors);
  metric(out, "journal_bytes", "gauge", "Size of the local journal on disk.", s.journal_bytes);
  metric(out, "db_enabled", "gauge", "1 when a database is configured.", s.db_enabled ? 1 : 0);
  metric(out, "db_up", "gauge", "1 when the database is connected and writing.", s.db_up ? 1 : 0);
  return out;
}

std::string to_json(const StoreStatsSnapshot& s) {
  std::string out = "{";
  auto field = [&out](std::string_view key, const std::string& value) {
    if (out.size() > 1) out += ',';
    out += '"';
    out += key;
    out += "\":";
    out += value;
  };
  auto num = [](std::uint64_t v) { return std::to_string(v); };
  field("db_enabled", s.db_enabled ? "true" : "false");
  field("db_up", s.db_up ? "true" : "false");
  field("lag_records", num(s.lag_records()));
  field("journal_bytes", num(s.journal_bytes));
  field("journal_seq", num(s.journal_seq));
  field("db_seq", num(s.db_seq));
  field("db_durable_seq", num(s.db_durable_seq));
  field("queue_depth", num(s.queue_depth));
  field("overflow_depth", num(s.overflow_depth));
  field("enqueued", num(s.enqueued));
  field("journaled", num(s.journaled));
  field("db_written", num(s.db_written));
  field("backfilled", num(s.backfilled));
  field("queue_full", num(s.queue_full));
  field("dropped_samples", num(s.dropped_samples));
  field("lost", num(s.lost));
  field("db_errors", num(s.db_errors));
  field("db_down_since_ns", std::to_string(s.db_down_since_wall_ns));
  out += '}';
  return out;
}

}  // namespace tb::store

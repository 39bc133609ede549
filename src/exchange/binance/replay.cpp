#include "tradingbot/exchange/binance/replay.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/market/capture.hpp"

namespace tb::binance {
namespace {

struct Source {
  market::CaptureReader reader;
  market::CaptureRecord record;
  bool has_record = false;
  std::vector<Symbol> symbols_seen;  // distinct, at most 2 kept (enough to know "only one")
};

void append_levels(std::string& out, const std::vector<book::BookLevel>& levels) {
  out.push_back('[');
  char buf[kMaxFixedChars];
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("[\"");
    out.append(buf, format_fixed(levels[i].price.raw(), -1, buf));
    out.append("\",\"");
    out.append(buf, format_fixed(levels[i].qty.raw(), -1, buf));
    out.append("\"]");
  }
  out.push_back(']');
}

void append_uint(std::string& out, const char* key, std::uint64_t value, bool comma = true) {
  if (comma) out.push_back(',');
  out.push_back('"');
  out.append(key);
  out.append("\":");
  out.append(std::to_string(value));
}

void append_double(std::string& out, const char* key, double value, int decimals) {
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  out.push_back('"');
  out.append(key);
  out.append("\":");
  out.append(buf, static_cast<std::size_t>(n > 0 ? n : 0));
}

}  // namespace

Result<ReplaySummary> run_replay(const config::Config& config, const std::vector<std::string>& capture_paths,
                                 std::optional<Symbol> only_symbol, const ReplayHooks& hooks) {
  if (capture_paths.empty()) return Error{"replay: no capture files given"};
  std::vector<Source> sources;
  sources.reserve(capture_paths.size());
  for (const auto& path : capture_paths) {
    auto reader = market::CaptureReader::open(path);
    if (!reader) return Error{reader.error().message};
    sources.push_back(Source{std::move(reader.value()), {}, false, {}});
  }

  MarketDataPipeline::Options options = MarketDataPipeline::options_from(config.market);
  options.symbols.clear();  // replay tracks what the captures hold
  options.accept_new_symbols = true;
  options.only_symbol = only_symbol;
  MarketDataPipeline pipeline(options);
  pipeline.set_sink(hooks.sink);
  pipeline.set_snapshot_request_handler([](const Symbol&) {});  // snapshots come from the capture

  Symbol fallback;
  if (only_symbol) {
    fallback = *only_symbol;
  } else if (config.market.symbols.size() == 1) {
    fallback = config.market.symbols.front();
  }

  auto advance = [](Source& s) -> bool {
    const auto status = s.reader.next(s.record);
    s.has_record = status == market::CaptureReader::Status::Record;
    return status != market::CaptureReader::Status::Error;
  };
  for (auto& s : sources) {
    if (!advance(s)) return Error{s.reader.error()};
  }

  ReplaySummary summary;
  const Nanos start = monotonic_ns();
  Nanos pipeline_ns = 0;  // decode + sync + book + cache only: reading/gunzip excluded
  for (;;) {
    Source* next = nullptr;
    for (auto& s : sources) {
      if (s.has_record && (next == nullptr || s.record.recv_ns < next->record.recv_ns)) next = &s;
    }
    if (next == nullptr) break;
    const Symbol& file_symbol = next->symbols_seen.size() == 1 ? next->symbols_seen.front() : fallback;
    const Nanos pipeline_start = monotonic_ns();
    (void)pipeline.on_capture_record(next->record, file_symbol);
    pipeline_ns += monotonic_ns() - pipeline_start;
    ++summary.messages;
    const Symbol& seen = pipeline.last_message().symbol;
    if (!seen.empty() && next->symbols_seen.size() < 2 &&
        std::find(next->symbols_seen.begin(), next->symbols_seen.end(), seen) == next->symbols_seen.end()) {
      next->symbols_seen.push_back(seen);
    }
    if (!advance(*next)) return Error{next->reader.error()};
  }
  const Nanos elapsed = monotonic_ns() - start;

  summary.elapsed_s = static_cast<double>(elapsed) / static_cast<double>(kNanosPerSecond);
  summary.msgs_per_s = summary.elapsed_s > 0 ? static_cast<double>(summary.messages) / summary.elapsed_s : 0.0;
  summary.pipeline_s = static_cast<double>(pipeline_ns) / static_cast<double>(kNanosPerSecond);
  summary.pipeline_msgs_per_s =
      summary.pipeline_s > 0 ? static_cast<double>(summary.messages) / summary.pipeline_s : 0.0;
  for (const Symbol& symbol : pipeline.symbols()) {
    const auto stats = pipeline.symbol_stats(symbol);
    const book::L2Book* book = pipeline.book(symbol);
    ReplaySymbolSummary s;
    s.symbol = symbol;
    s.synced = stats->sync.synced;
    s.last_update_id = stats->sync.last_update_id;
    s.resyncs = stats->sync.resyncs;
    s.gaps = stats->sync.gaps;
    s.crossed = stats->sync.crossed;
    s.book_ticker_checks = stats->book_ticker_checks;
    s.book_ticker_mismatches = stats->book_ticker_mismatches;
    s.depth_diffs = stats->depth_diffs;
    s.book_tickers = stats->book_tickers;
    s.trades = stats->trades;
    s.agg_trades = stats->agg_trades;
    s.klines = stats->klines;
    s.snapshots = stats->snapshots;
    std::array<book::BookLevel, kReplaySummaryDepth> top{};
    if (s.synced) {
      s.bids.assign(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(book->top(book::BookSide::Bid, top)));
      s.asks.assign(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(book->top(book::BookSide::Ask, top)));
    }
    summary.symbols.push_back(std::move(s));
  }
  const PipelineStats& ps = pipeline.stats();
  summary.decode_errors = ps.decode_errors;
  summary.unsupported = ps.unsupported;
  summary.filtered = ps.filtered;
  summary.unattributed_snapshots = ps.unattributed_snapshots;
  summary.snapshot_requests = ps.snapshot_requests;
  for (const auto& s : sources) summary.bad_lines += s.reader.bad_lines();
  if (hooks.paper_summary) summary.paper = hooks.paper_summary();
  return summary;
}

std::string to_json(const ReplaySummary& summary) {
  std::string out;
  out.reserve(4096 + summary.symbols.size() * 2048);
  out.push_back('{');
  append_uint(out, "messages", summary.messages, false);
  out.push_back(',');
  append_double(out, "elapsed_s", summary.elapsed_s, 6);
  out.push_back(',');
  append_double(out, "msgs_per_s", summary.msgs_per_s, 1);
  out.push_back(',');
  append_double(out, "pipeline_s", summary.pipeline_s, 6);
  out.push_back(',');
  append_double(out, "pipeline_msgs_per_s", summary.pipeline_msgs_per_s, 1);
  out.append(",\"symbols\":{");
  bool first = true;
  for (const auto& s : summary.symbols) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out.append(s.symbol.view());
    out.append("\":{\"synced\":");
    out.append(s.synced ? "true" : "false");
    append_uint(out, "last_update_id", s.last_update_id);
    append_uint(out, "resyncs", s.resyncs);
    append_uint(out, "gaps", s.gaps);
    append_uint(out, "crossed", s.crossed);
    append_uint(out, "book_ticker_checks", s.book_ticker_checks);
    append_uint(out, "book_ticker_mismatches", s.book_ticker_mismatches);
    out.append(",\"bids\":");
    append_levels(out, s.bids);
    out.append(",\"asks\":");
    append_levels(out, s.asks);
    append_uint(out, "depth_diffs", s.depth_diffs);
    append_uint(out, "book_tickers", s.book_tickers);
    append_uint(out, "trades", s.trades);
    append_uint(out, "agg_trades", s.agg_trades);
    append_uint(out, "klines", s.klines);
    append_uint(out, "snapshots", s.snapshots);
    out.push_back('}');
  }
  out.append("},\"paper\":{");
  append_uint(out, "orders", summary.paper.orders, false);
  append_uint(out, "fills", summary.paper.fills);
  out.append(",\"realized_pnl\":\"");
  out.append(summary.paper.realized_pnl.to_string());
  out.append("\"},\"diagnostics\":{");
  append_uint(out, "decode_errors", summary.decode_errors, false);
  append_uint(out, "bad_lines", summary.bad_lines);
  append_uint(out, "unsupported", summary.unsupported);
  append_uint(out, "filtered", summary.filtered);
  append_uint(out, "unattributed_snapshots", summary.unattributed_snapshots);
  append_uint(out, "snapshot_requests", summary.snapshot_requests);
  out.append("}}");
  return out;
}

}  // namespace tb::binance

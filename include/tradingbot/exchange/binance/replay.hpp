// Replay: runs capture files through the full market-data pipeline (decode, depth sync, books,
// price cache, and whatever MarketEventSink is attached: strategy, paper venue) as fast as
// possible, and produces the ARCHITECTURE.md section 7 summary. `tradingbot replay` calls
// run_replay() and writes to_json() of the result.
// Files are read together and merged by receive timestamp (files that follow each other in time
// therefore replay one after the other, and a cryptofeed ws + http pair interleaves correctly).
// Runs on the calling thread; nothing else is shared.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tradingbot/book/level.hpp"
#include "tradingbot/config/config.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/market/event_sink.hpp"

namespace tb::binance {

inline constexpr std::size_t kReplaySummaryDepth = 20;

struct ReplaySymbolSummary {
  Symbol symbol;
  bool synced = false;
  std::uint64_t last_update_id = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t gaps = 0;
  std::uint64_t crossed = 0;
  std::uint64_t book_ticker_checks = 0;
  std::uint64_t book_ticker_mismatches = 0;
  std::uint64_t depth_diffs = 0;
  std::uint64_t book_tickers = 0;
  std::uint64_t trades = 0;
  std::uint64_t agg_trades = 0;
  std::uint64_t klines = 0;
  std::uint64_t snapshots = 0;
  std::vector<book::BookLevel> bids;  // best first, up to kReplaySummaryDepth
  std::vector<book::BookLevel> asks;
};

// Paper-trading results; filled by the paper venue through ReplayHooks (zero until it exists).
struct PaperSummary {
  std::uint64_t orders = 0;
  std::uint64_t fills = 0;
  Money realized_pnl;
};

struct ReplaySummary {
  std::uint64_t messages = 0;  // capture records fed to the pipeline (frames + snapshots)
  double elapsed_s = 0;
  double msgs_per_s = 0;        // messages / elapsed_s: includes reading and gunzip of the files
  double pipeline_s = 0;        // time inside the pipeline only (decode + sync + book + cache)
  double pipeline_msgs_per_s = 0;  // messages / pipeline_s (two clock reads per message included)
  std::vector<ReplaySymbolSummary> symbols;  // sorted by symbol
  PaperSummary paper;
  // Diagnostics beyond the contract.
  std::uint64_t decode_errors = 0;
  std::uint64_t bad_lines = 0;  // capture lines whose timestamp/form could not be parsed
  std::uint64_t unsupported = 0;
  std::uint64_t filtered = 0;
  std::uint64_t unattributed_snapshots = 0;
  std::uint64_t snapshot_requests = 0;
};

struct ReplayHooks {
  market::MarketEventSink* sink = nullptr;      // strategy / paper venue, called for every event
  std::function<PaperSummary()> paper_summary;  // read once at the end
};

// Symbols replayed: those found in the captures (filtered by `only_symbol`), not only the
// config's. Errors: a capture that cannot be opened or read.
Result<ReplaySummary> run_replay(const config::Config& config, const std::vector<std::string>& capture_paths,
                                 std::optional<Symbol> only_symbol, const ReplayHooks& hooks = {});

// The section 7 JSON: {"messages":..,"elapsed_s":..,"msgs_per_s":..,"symbols":{..},"paper":{..}}
// plus a "diagnostics" object. Prices and quantities are exact shortest decimals.
std::string to_json(const ReplaySummary& summary);

}  // namespace tb::binance

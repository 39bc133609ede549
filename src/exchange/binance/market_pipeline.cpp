#include "tradingbot/exchange/binance/market_pipeline.hpp"

#include <algorithm>

namespace tb::binance {

using book::BookSide;

struct MarketDataPipeline::SymbolState {
  SymbolState(const Symbol& s, std::size_t reserve) : sync(s, reserve) { stats.symbol = s; }
  market::DepthSynchronizer sync;
  market::BookTicker latest_ticker;
  bool ticker_pending = false;  // latest_ticker not compared yet
  bool in_deferred_list = false;  // listed in deferred_books_
  SymbolMarketStats stats;
};

MarketDataPipeline::Options MarketDataPipeline::options_from(const config::MarketConfig& market) {
  Options o;
  o.symbols = market.symbols;
  o.price_cache_capacity = static_cast<std::size_t>(std::max<std::int64_t>(1, market.price_cache_capacity));
  o.price_cache_ttl = market.price_cache_ttl_ms * kNanosPerMilli;
  const auto limit = static_cast<std::size_t>(std::max<std::int64_t>(100, market.depth_snapshot_limit));
  o.book_reserve_levels = limit + limit / 4;
  return o;
}

MarketDataPipeline::MarketDataPipeline(Options options)
    : options_(std::move(options)), decoder_(options_.decoder), cache_(options_.price_cache_capacity, options_.price_cache_ttl) {
  for (const Symbol& s : options_.symbols) {
    if (!options_.only_symbol || *options_.only_symbol == s) (void)state_for(s);
  }
}

MarketDataPipeline::~MarketDataPipeline() = default;

void MarketDataPipeline::set_snapshot_request_handler(std::function<void(const Symbol&)> handler) {
  snapshot_request_handler_ = std::move(handler);
  for (auto& s : states_) poll_snapshot_request(*s);  // books created before the handler existed
}

MarketDataPipeline::SymbolState* MarketDataPipeline::state_for(const Symbol& symbol) {
  if (last_state_ != nullptr && last_state_->stats.symbol == symbol) return last_state_;
  if (auto it = index_.find(symbol); it != index_.end()) {
    last_state_ = states_[it->second].get();
    return last_state_;
  }
  if (symbol.empty() || (options_.only_symbol && *options_.only_symbol != symbol)) return nullptr;
  const bool configured = std::find(options_.symbols.begin(), options_.symbols.end(), symbol) != options_.symbols.end();
  if (!configured && !options_.accept_new_symbols) return nullptr;
  states_.push_back(std::make_unique<SymbolState>(symbol, options_.book_reserve_levels));
  deferred_books_.reserve(states_.size());  // so listing a book never allocates on a diff
  index_.emplace(symbol, states_.size() - 1);
  last_state_ = states_.back().get();
  poll_snapshot_request(*last_state_);
  return last_state_;
}

const MarketDataPipeline::SymbolState* MarketDataPipeline::find(const Symbol& symbol) const {
  auto it = index_.find(symbol);
  return it == index_.end() ? nullptr : states_[it->second].get();
}

void MarketDataPipeline::poll_snapshot_request(SymbolState& s) {
  if (!snapshot_request_handler_) return;  // stays pending until a handler is installed
  if (s.sync.take_snapshot_request()) {
    ++stats_.snapshot_requests;
    snapshot_request_handler_(s.stats.symbol);
  }
}

DecodeStatus MarketDataPipeline::on_ws_frame(std::string_view frame, Nanos recv_ns, std::string_view raw_stream) {
  return dispatch(decoder_.decode_frame(frame, msg_, raw_stream), recv_ns, nullptr);
}

DecodeStatus MarketDataPipeline::on_ws_frame_padded(const char* data, std::size_t len, std::size_t capacity,
                                                    Nanos recv_ns, std::string_view raw_stream) {
  return dispatch(decoder_.decode_frame_padded(data, len, capacity, msg_, raw_stream), recv_ns, nullptr);
}

DecodeStatus MarketDataPipeline::on_rest_depth_snapshot(const Symbol& symbol, std::string_view json, Nanos recv_ns) {
  const DecodeStatus status = dispatch(decoder_.decode_depth_snapshot(json, symbol, msg_), recv_ns, &symbol);
  if (status != DecodeStatus::Ok || msg_.kind != MessageKind::DepthSnapshot) on_rest_depth_snapshot_failed(symbol);
  return status;
}

void MarketDataPipeline::on_rest_depth_snapshot_failed(const Symbol& symbol) {
  if (SymbolState* s = state_for(symbol)) {
    s->sync.on_snapshot_failed();
    poll_snapshot_request(*s);
  }
}

DecodeStatus MarketDataPipeline::on_capture_record(const market::CaptureRecord& record, const Symbol& file_symbol) {
  if (record.form == market::CaptureLineForm::CryptofeedHttp) {
    if (record.url.find("/depth") == std::string_view::npos || record.url_symbol.empty()) {
      ++stats_.frames;
      ++stats_.unsupported;
      return DecodeStatus::Ok;
    }
    return dispatch(decoder_.decode_frame_padded(record.payload.data(), record.payload.size(), record.capacity, msg_),
                    record.recv_ns, &record.url_symbol);
  }
  return dispatch(decoder_.decode_frame_padded(record.payload.data(), record.payload.size(), record.capacity, msg_),
                  record.recv_ns, file_symbol.empty() ? nullptr : &file_symbol);
}

void MarketDataPipeline::on_reconnect() {
  server_shutdown_seen_ = false;
  for (auto& s : states_) {
    s->sync.on_reconnect();
    s->ticker_pending = false;
    if (sink_ != nullptr) sink_->on_book_reset(s->stats.symbol);
    poll_snapshot_request(*s);
  }
}

void MarketDataPipeline::on_reconnect(const Symbol& symbol) {
  if (SymbolState* s = state_for(symbol)) {
    s->sync.on_reconnect();
    s->ticker_pending = false;
    if (sink_ != nullptr) sink_->on_book_reset(symbol);
    poll_snapshot_request(*s);
  }
}

DecodeStatus MarketDataPipeline::dispatch(DecodeStatus status, Nanos recv_ns, const Symbol* bare_snapshot_symbol) {
  ++stats_.frames;
  if (status != DecodeStatus::Ok) {
    ++stats_.decode_errors;
    return status;
  }
  DecodedMessage& m = msg_;
  SymbolState* s = nullptr;
  auto track = [&](const Symbol& symbol) -> SymbolState* {
    s = state_for(symbol);
    if (s == nullptr) {
      ++stats_.filtered;
    } else {
      s->stats.last_message_ns = recv_ns;
    }
    return s;
  };
  switch (m.kind) {
    case MessageKind::BookTicker: {
      if (track(m.book_ticker.symbol) == nullptr) break;
      const market::BookTicker& bt = m.book_ticker;
      ++s->stats.book_tickers;
      s->latest_ticker = bt;
      s->ticker_pending = true;
      cache_.put(bt.symbol, market::PriceQuote{bt.bid_price, bt.bid_qty, bt.ask_price, bt.ask_qty, bt.update_id,
                                               market::PriceSource::Ws},
                 recv_ns);
      if (s->sync.synced() && s->sync.book().update_id() == bt.update_id) check_book_ticker(*s);
      if (sink_ != nullptr) sink_->on_book_ticker(bt, recv_ns);
      break;
    }
    case MessageKind::DepthDiff:
      if (track(m.depth_diff.symbol) != nullptr) on_depth_diff(*s, recv_ns);
      break;
    case MessageKind::DepthSnapshot: {
      market::DepthSnapshot snapshot = m.depth_snapshot;
      if (snapshot.symbol.empty()) {
        if (bare_snapshot_symbol == nullptr || bare_snapshot_symbol->empty()) {
          ++stats_.unattributed_snapshots;
          break;
        }
        snapshot.symbol = *bare_snapshot_symbol;
        m.symbol = snapshot.symbol;
      }
      if (track(snapshot.symbol) != nullptr) on_snapshot(*s, snapshot, recv_ns);
      break;
    }
    case MessageKind::PartialDepth:
      if (track(m.partial_depth.symbol) == nullptr) break;
      ++s->stats.partial_depths;
      // A partial depth stream is a complete top-N snapshot at lastUpdateId, not a change: it is
      // never applied to the diff-synced L2 book (levels below N would go stale, and it has no
      // U/u chain to sequence it with diffs). Its best levels are a quote like a bookTicker, so
      // they refresh the price cache (an older id than the cached one is ignored there).
      if (!m.partial_depth.bids.empty() && !m.partial_depth.asks.empty()) {
        const book::BookLevel& bid = m.partial_depth.bids.front();
        const book::BookLevel& ask = m.partial_depth.asks.front();
        cache_.put(m.partial_depth.symbol,
                   market::PriceQuote{bid.price, bid.qty, ask.price, ask.qty, m.partial_depth.last_update_id,
                                      market::PriceSource::Ws},
                   recv_ns);
      }
      if (sink_ != nullptr) sink_->on_partial_depth(m.partial_depth, recv_ns);
      break;
    case MessageKind::Trade:
      if (track(m.trade.symbol) == nullptr) break;
      ++s->stats.trades;
      if (sink_ != nullptr) sink_->on_trade(m.trade, recv_ns);
      break;
    case MessageKind::AggTrade:
      if (track(m.agg_trade.symbol) == nullptr) break;
      ++s->stats.agg_trades;
      if (sink_ != nullptr) sink_->on_agg_trade(m.agg_trade, recv_ns);
      break;
    case MessageKind::Kline:
      if (track(m.kline.symbol) == nullptr) break;
      ++s->stats.klines;
      if (sink_ != nullptr) sink_->on_kline(m.kline, recv_ns);
      break;
    case MessageKind::ServerShutdown:
      ++stats_.server_shutdowns;
      server_shutdown_seen_ = true;
      if (sink_ != nullptr) sink_->on_server_shutdown(m.server_shutdown, recv_ns);
      break;
    case MessageKind::ControlReply: ++stats_.control_replies; break;
    case MessageKind::ErrorReply: ++stats_.error_replies; break;
    case MessageKind::Unsupported:
    case MessageKind::None: ++stats_.unsupported; break;
  }
  return status;
}

void MarketDataPipeline::check_book_ticker(SymbolState& s) {
  s.ticker_pending = false;
  ++s.stats.book_ticker_checks;
  const auto bid = s.sync.book().best_bid();
  const auto ask = s.sync.book().best_ask();
  const market::BookTicker& bt = s.latest_ticker;
  const bool same = bid && ask && bid->price == bt.bid_price && bid->qty == bt.bid_qty && ask->price == bt.ask_price &&
                    ask->qty == bt.ask_qty;
  if (!same) ++s.stats.book_ticker_mismatches;
}

void MarketDataPipeline::after_book_change(SymbolState& s, Nanos recv_ns) {
  const book::L2Book& b = s.sync.book();
  if (s.ticker_pending && s.latest_ticker.update_id == b.update_id()) check_book_ticker(s);
  const auto bid = b.best_bid();
  const auto ask = b.best_ask();
  if (bid && ask) {
    cache_.put(s.stats.symbol,
               market::PriceQuote{bid->price, bid->qty, ask->price, ask->qty, b.update_id(), market::PriceSource::Ws},
               recv_ns);
  }
  if (sink_ != nullptr) sink_->on_book_update(s.stats.symbol, b, recv_ns);
  // A diff (or the diffs buffered behind a snapshot) may have left deep levels queued.
  if (!s.in_deferred_list && b.deferred_levels() != 0) {
    s.in_deferred_list = true;
    deferred_books_.push_back(&s);
  }
}

void MarketDataPipeline::on_depth_diff(SymbolState& s, Nanos recv_ns) {
  ++s.stats.depth_diffs;
  switch (s.sync.on_diff(msg_.depth_diff)) {
    case market::DiffOutcome::Applied: after_book_change(s, recv_ns); break;
    case market::DiffOutcome::Gap:
    case market::DiffOutcome::Crossed:
      s.ticker_pending = false;
      if (sink_ != nullptr) sink_->on_book_reset(s.stats.symbol);
      break;
    case market::DiffOutcome::Buffered:
    case market::DiffOutcome::Stale: break;
  }
  poll_snapshot_request(s);
}

void MarketDataPipeline::on_snapshot(SymbolState& s, const market::DepthSnapshot& snapshot, Nanos recv_ns) {
  ++s.stats.snapshots;
  switch (s.sync.on_snapshot(snapshot)) {
    case market::SnapshotOutcome::Applied: after_book_change(s, recv_ns); break;
    case market::SnapshotOutcome::Gap:
    case market::SnapshotOutcome::Crossed:
      if (sink_ != nullptr) sink_->on_book_reset(s.stats.symbol);
      break;
    case market::SnapshotOutcome::TooOld:
    case market::SnapshotOutcome::Ignored: break;
  }
  poll_snapshot_request(s);
}

std::size_t MarketDataPipeline::apply_deferred_book_levels(std::size_t max_levels) {
  // Oldest-listed book first; a book a read has already brought up to date leaves the list too.
  std::size_t budget = max_levels;
  std::size_t done = 0;
  for (; done < deferred_books_.size(); ++done) {
    SymbolState& s = *deferred_books_[done];
    const book::L2Book& b = s.sync.book();
    const std::size_t before = b.deferred_levels();
    const std::size_t left = b.apply_deferred(budget);
    budget -= before - left;
    if (left != 0) break;
    s.in_deferred_list = false;
  }
  deferred_books_.erase(deferred_books_.begin(), deferred_books_.begin() + static_cast<std::ptrdiff_t>(done));
  return deferred_books_.size();
}

const market::DepthSynchronizer* MarketDataPipeline::synchronizer(const Symbol& symbol) const {
  const SymbolState* s = find(symbol);
  return s == nullptr ? nullptr : &s->sync;
}

const book::L2Book* MarketDataPipeline::book(const Symbol& symbol) const {
  const SymbolState* s = find(symbol);
  return s == nullptr ? nullptr : &s->sync.book();
}

std::vector<Symbol> MarketDataPipeline::symbols() const {
  std::vector<Symbol> out;
  out.reserve(states_.size());
  for (const auto& s : states_) out.push_back(s->stats.symbol);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<SymbolMarketStats> MarketDataPipeline::symbol_stats(const Symbol& symbol) const {
  const SymbolState* s = find(symbol);
  if (s == nullptr) return std::nullopt;
  SymbolMarketStats out = s->stats;
  out.sync = s->sync.stats();
  return out;
}

}  // namespace tb::binance

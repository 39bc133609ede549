#include "tradingbot/app/market_data_service.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <charconv>
#include <string>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/exchange/binance/market_streams.hpp"
#include "tradingbot/net/tls_context.hpp"

namespace tb::app {
namespace {

constexpr std::size_t kDefaultBookDepth = 20;

int feed_state_value(binance::FeedState state) {
  switch (state) {
    case binance::FeedState::closed: return 0;
    case binance::FeedState::half_open: return 1;
    case binance::FeedState::open: return 2;
  }
  return 2;
}

// Milliseconds with 3 decimals through core's exact fixed-point printer (1e-8 units).
std::string millis3(Nanos ns) { return fixed_to_string(ns * 100, 3); }

void write_levels(http::JsonWriter& json, const std::vector<book::BookLevel>& levels, std::size_t depth) {
  json.begin_array();
  const std::size_t n = std::min(depth, levels.size());
  for (std::size_t i = 0; i < n; ++i) {
    json.begin_array();
    json.value(levels[i].price.to_string());
    json.value(levels[i].qty.to_string());
    json.end_array();
  }
  json.end_array();
}

// Symbols in URLs may come in any case ("btcusdt"); Binance's are upper case.
std::optional<Symbol> parse_path_symbol(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return Symbol::parse(upper);
}

}  // namespace

MarketDataService::MarketDataService(boost::asio::io_context& trading, const config::Config& config)
    : trading_(trading), config_(config) {
  pipeline_ = std::make_unique<binance::MarketDataPipeline>(binance::MarketDataPipeline::options_from(config.market));
}

MarketDataService::~MarketDataService() { stop(); }

Result<bool> MarketDataService::start() { return start({}); }

Result<bool> MarketDataService::start(const std::function<void(binance::MarketStreamOptions&)>& adjust) {
  auto tls = net::make_client_tls_context(net::TlsClientOptions{config_.exchange.ca_file, true});
  if (!tls) return tls.error();
  auto options = binance::MarketStreamOptions::from_config(config_);
  if (adjust) adjust(options);
  streams_ = std::make_unique<binance::MarketStreamManager>(trading_, std::move(tls).value(), std::move(options),
                                                            *pipeline_);
  streams_->start();
  spdlog::info("market data: {} symbols x {} streams from {}", config_.market.symbols.size(),
               config_.market.streams.size(), config_.exchange.ws.url);
  return true;
}

void MarketDataService::stop() {
  if (streams_) streams_->stop();
}

void MarketDataService::reload(const config::Config& next) {
  if (!streams_) return;
  if (next.market.symbols == config_.market.symbols && next.market.streams == config_.market.streams) return;
  for (const Symbol& symbol : next.market.symbols) {
    if (std::find(config_.market.symbols.begin(), config_.market.symbols.end(), symbol) == config_.market.symbols.end()) {
      // The pipeline creates books up front; a symbol it does not know would be filtered out.
      spdlog::warn("config reload: new symbol {} needs a restart; stream changes of known symbols are applied",
                   symbol.view());
    }
  }
  std::vector<Symbol> symbols;
  for (const Symbol& symbol : next.market.symbols) {
    if (std::find(config_.market.symbols.begin(), config_.market.symbols.end(), symbol) != config_.market.symbols.end()) {
      symbols.push_back(symbol);
    }
  }
  streams_->update_subscriptions(symbols, next.market.streams);
  config_.market.streams = next.market.streams;
}

bool MarketDataService::request_price_refresh(const Symbol& symbol) {
  return streams_ && streams_->request_price_refresh(symbol);
}

void MarketDataService::fill_status(DaemonStatus& status) const {
  MarketDataStatus& m = status.market;
  const Nanos now = monotonic_ns();
  m.running = streams_ != nullptr;
  m.stale_after_ns = config_.market.stale_after_ms * kNanosPerMilli;
  m.price_ttl_ns = pipeline_->price_cache().ttl();
  m.price_cache = pipeline_->price_cache().stats();
  m.frames = pipeline_->stats().frames;
  m.decode_errors = pipeline_->stats().decode_errors;
  m.server_shutdowns = pipeline_->stats().server_shutdowns;
  std::vector<binance::SymbolFeedStats> feeds;
  if (streams_) {
    feeds = streams_->symbol_stats();
    m.used_weight_1m = streams_->rate_limits().used_weight_1m(wall_clock_ns());
    for (const auto& c : streams_->connection_stats()) {
      m.connections.push_back(MarketConnectionStatus{c.index, c.streams, c.up, c.connects, c.disconnects, c.rotations,
                                                     c.server_shutdowns, c.messages, c.messages_per_s,
                                                     c.last_disconnect});
    }
    for (const auto& s : streams_->stream_stats()) {
      m.streams.push_back(MarketStreamStatus{s.name, s.messages, s.last_message_mono_ns});
    }
  }
  std::array<book::BookLevel, kPublishedBookDepth> top{};
  for (const Symbol& symbol : config_.market.symbols) {
    MarketSymbolStatus s;
    s.symbol = symbol;
    if (const auto* sync = pipeline_->synchronizer(symbol)) {
      const auto& st = sync->stats();
      s.synced = st.synced;
      s.last_update_id = st.last_update_id;
      s.resyncs = st.resyncs;
      s.gaps = st.gaps;
      s.crossed = st.crossed;
      s.snapshots_applied = st.snapshots_applied;
    }
    if (const auto* book = pipeline_->book(symbol); book != nullptr) {
      // Before top(), which applies the queue when the published depth reaches past it.
      s.book_deferred_levels = book->deferred_levels();
      s.book_deferred_overflows = book->deferred_overflows();
      if (s.synced) {
        s.bids.assign(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(book->top(book::BookSide::Bid, top)));
        s.asks.assign(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(book->top(book::BookSide::Ask, top)));
      }
    }
    if (const auto* entry = pipeline_->price_cache().peek(symbol)) {
      s.has_quote = true;
      s.quote = *entry;
    }
    for (const auto& f : feeds) {
      if (f.symbol != symbol) continue;
      s.feed_state = std::string(binance::feed_state_name(f.state));
      s.feed_state_value = feed_state_value(f.state);
      s.breaker_trips = f.breaker_trips;
      s.connection_up = f.connection_up;
      s.messages = f.messages;
      s.messages_per_s = f.messages_per_s;
      s.last_message_mono_ns = f.last_message_mono_ns;
      s.rest_polls = f.rest_polls;
      s.rest_poll_failures = f.rest_poll_failures;
      s.snapshot_requests = f.snapshot_requests;
      s.snapshot_failures = f.snapshot_failures;
    }
    status.symbols.push_back(SymbolStatus{symbol, s.synced, s.last_update_id, s.resyncs, s.gaps});
    const std::string name(symbol.view());
    if (!streams_) {
      status.not_ready_reasons.push_back(name + ": book not synced (no market data connection)");
    } else if (!s.synced) {
      status.not_ready_reasons.push_back(name + (s.connection_up ? ": book not synced (resyncing)"
                                                                 : ": book not synced (market data connection down)"));
    } else if (!s.connection_up) {
      status.not_ready_reasons.push_back(name + ": market data connection down");
    } else if (s.last_message_mono_ns == 0 || now - s.last_message_mono_ns > m.stale_after_ns) {
      status.not_ready_reasons.push_back(name + ": market data stale");
    } else if (s.feed_state != "closed") {
      status.not_ready_reasons.push_back(name + ": market data breaker " + s.feed_state);
    }
    m.symbols.push_back(std::move(s));
  }
  std::sort(m.symbols.begin(), m.symbols.end(), [](const auto& a, const auto& b) { return a.symbol < b.symbol; });
}

void add_market_data_endpoints(http::Router& router, const Published<DaemonStatus>* published,
                               MarketDataService* service) {
  router.get_prefix("/book/", [published](const http::Request& request, http::Response& response) {
    const auto symbol = parse_path_symbol(request.path_param());
    const auto status = published->load();
    const MarketSymbolStatus* s = (symbol && status) ? status->market.find(*symbol) : nullptr;
    if (s == nullptr) {
      response.set_error(404, "unknown symbol");
      return;
    }
    std::size_t depth = kDefaultBookDepth;
    if (const auto text = request.query("depth")) {
      std::size_t parsed = 0;
      const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), parsed);
      if (ec != std::errc{} || end != text->data() + text->size() || parsed < 1 || parsed > kPublishedBookDepth) {
        response.set_error(400, "depth must be an integer from 1 to " + std::to_string(kPublishedBookDepth));
        return;
      }
      depth = parsed;
    }
    if (!s->synced) {
      response.set_error(503, std::string(s->symbol.view()) + ": book not synced");
      response.add_header("Retry-After", "1");
      return;
    }
    http::JsonWriter json(response.body);
    json.begin_object();
    json.member("symbol", s->symbol.view());
    json.member("last_update_id", s->last_update_id);
    json.key("bids");
    write_levels(json, s->bids, depth);
    json.key("asks");
    write_levels(json, s->asks, depth);
    json.end_object();
  });

  router.get_prefix("/price/", [published, service](const http::Request& request, http::Response& response) {
    const auto symbol = parse_path_symbol(request.path_param());
    const auto status = published->load();
    const MarketSymbolStatus* s = (symbol && status) ? status->market.find(*symbol) : nullptr;
    if (s == nullptr) {
      response.set_error(404, "unknown symbol");
      return;
    }
    const Nanos age = s->has_quote ? wall_clock_ns() - s->quote.updated_ns : 0;
    const bool stale = !s->has_quote || age > status->market.price_ttl_ns;
    if (stale && service != nullptr) {
      // The trading thread fetches it over REST (through the poller's weight budget).
      boost::asio::post(service->trading(), [service, sym = *symbol] { (void)service->request_price_refresh(sym); });
    }
    if (!s->has_quote) {
      response.set_error(503, std::string(s->symbol.view()) + ": no price yet, REST refresh requested");
      response.add_header("Retry-After", "1");
      return;
    }
    http::JsonWriter json(response.body);
    json.begin_object();
    json.member("symbol", s->symbol.view());
    json.member("bid", s->quote.quote.bid_price.to_string());
    json.member("bid_qty", s->quote.quote.bid_qty.to_string());
    json.member("ask", s->quote.quote.ask_price.to_string());
    json.member("ask_qty", s->quote.quote.ask_qty.to_string());
    json.key("age_ms").raw_number(millis3(std::max<Nanos>(0, age)));
    json.member("source", s->quote.quote.source == market::PriceSource::Rest ? "rest" : "ws");
    if (stale) json.member("stale", true);
    json.end_object();
  });
}

void write_market_data_json(http::JsonWriter& json, const MarketDataStatus& m) {
  const Nanos now = monotonic_ns();
  json.key("market_data").begin_object();
  json.member("running", m.running);
  json.member("frames", m.frames);
  json.member("decode_errors", m.decode_errors);
  json.member("server_shutdowns", m.server_shutdowns);
  json.member("used_weight_1m", m.used_weight_1m);
  json.key("symbols").begin_object();
  for (const auto& s : m.symbols) {
    json.key(s.symbol.view()).begin_object();
    json.member("synced", s.synced);
    json.member("last_update_id", s.last_update_id);
    json.member("resyncs", s.resyncs);
    json.member("gaps", s.gaps);
    json.member("crossed", s.crossed);
    json.member("deferred_levels", s.book_deferred_levels);
    json.member("deferred_overflows", s.book_deferred_overflows);
    json.member("breaker", s.feed_state);
    json.member("breaker_trips", s.breaker_trips);
    json.member("connection_up", s.connection_up);
    json.member("messages", s.messages);
    json.key("messages_per_s").raw_number(fixed_to_string(static_cast<std::int64_t>(s.messages_per_s * 1e8), 1));
    if (s.last_message_mono_ns == 0) {
      json.key("age_ms").null();
    } else {
      json.key("age_ms").raw_number(millis3(now - s.last_message_mono_ns));
    }
    json.member("rest_polls", s.rest_polls);
    json.member("rest_poll_failures", s.rest_poll_failures);
    json.member("snapshot_requests", s.snapshot_requests);
    json.member("snapshot_failures", s.snapshot_failures);
    json.end_object();
  }
  json.end_object();
  json.key("connections").begin_array();
  for (const auto& c : m.connections) {
    json.begin_object();
    json.member("index", c.index);
    json.member("up", c.up);
    json.member("streams", c.streams);
    json.member("connects", c.connects);
    json.member("disconnects", c.disconnects);
    json.member("rotations", c.rotations);
    json.member("server_shutdowns", c.server_shutdowns);
    json.member("messages", c.messages);
    json.key("messages_per_s").raw_number(fixed_to_string(static_cast<std::int64_t>(c.messages_per_s * 1e8), 1));
    json.member("last_disconnect", c.last_disconnect);
    json.end_object();
  }
  json.end_array();
  json.key("streams").begin_object();
  for (const auto& s : m.streams) {
    json.key(s.name).begin_object();
    json.member("messages", s.messages);
    if (s.last_message_mono_ns == 0) {
      json.key("age_ms").null();
    } else {
      json.key("age_ms").raw_number(millis3(now - s.last_message_mono_ns));
    }
    json.end_object();
  }
  json.end_object();
  json.key("price_cache").begin_object();
  json.member("hits", m.price_cache.hits);
  json.member("misses", m.price_cache.misses);
  json.member("stale", m.price_cache.stale);
  json.member("evictions", m.price_cache.evictions);
  json.member("size", m.price_cache.size);
  json.member("capacity", m.price_cache.capacity);
  json.end_object();
  json.end_object();
}

void write_market_data_metrics(http::PrometheusWriter& metrics, const MarketDataStatus& m) {
  using http::MetricType;
  const Nanos now = monotonic_ns();
  metrics.family("market_breaker_state", "Market-data breaker per symbol: closed 0, half_open 1, open 2",
                 MetricType::Gauge);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.feed_state_value);
  metrics.family("market_breaker_trips_total", "Times a symbol's stream went stale or down", MetricType::Counter);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.breaker_trips);
  metrics.family("book_gaps_total", "Depth diff gaps per symbol", MetricType::Counter);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.gaps);
  metrics.family("book_deferred_levels", "Deep book levels queued for the trading thread's idle time",
                 MetricType::Gauge);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.book_deferred_levels);
  metrics.family("book_deferred_overflows_total",
                 "Times a book's deep-level queue filled and was applied inside a market message", MetricType::Counter);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.book_deferred_overflows);
  metrics.family("book_last_update_id", "Update id the local book stands at", MetricType::Gauge);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.last_update_id);
  metrics.family("market_messages_total", "Stream messages per symbol", MetricType::Counter);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.messages);
  metrics.family("market_messages_per_second", "Stream message rate per symbol over the last second",
                 MetricType::Gauge);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.messages_per_s);
  metrics.family("market_data_age_seconds", "Age of the symbol's last stream message", MetricType::Gauge);
  for (const auto& s : m.symbols) {
    if (s.last_message_mono_ns != 0) {
      metrics.sample({{"symbol", s.symbol.view()}},
                     static_cast<double>(now - s.last_message_mono_ns) / static_cast<double>(kNanosPerSecond));
    }
  }
  metrics.family("market_rest_polls_total", "bookTicker quotes fetched over REST while the breaker was not closed",
                 MetricType::Counter);
  for (const auto& s : m.symbols) metrics.sample({{"symbol", s.symbol.view()}}, s.rest_polls);
  metrics.family("market_connection_up", "1 while the market-data connection is open", MetricType::Gauge);
  for (const auto& c : m.connections) {
    const std::string index = std::to_string(c.index);
    metrics.sample({{"connection", index}}, c.up ? 1 : 0);
  }
  metrics.family("market_connection_disconnects_total", "Market-data connection losses", MetricType::Counter);
  for (const auto& c : m.connections) {
    const std::string index = std::to_string(c.index);
    metrics.sample({{"connection", index}}, c.disconnects);
  }
  metrics.family("market_decode_errors_total", "Malformed, oversized or unreadable frames", MetricType::Counter)
      .sample(m.decode_errors);
  metrics.family("price_cache_hits_total", "Price cache lookups that found a fresh quote", MetricType::Counter)
      .sample(m.price_cache.hits);
  metrics.family("price_cache_misses_total", "Price cache lookups that found nothing", MetricType::Counter)
      .sample(m.price_cache.misses);
  metrics.family("price_cache_stale_total", "Price cache lookups older than the TTL", MetricType::Counter)
      .sample(m.price_cache.stale);
  metrics.family("price_cache_evictions_total", "Least recently used quotes evicted", MetricType::Counter)
      .sample(m.price_cache.evictions);
  metrics.family("price_cache_size", "Quotes in the price cache", MetricType::Gauge).sample(m.price_cache.size);
  metrics.family("rest_used_weight_1m", "REST request weight used in the current minute (-1 unknown)",
                 MetricType::Gauge)
      .sample(m.used_weight_1m);
}

}  // namespace tb::app

// Store benchmark (issue 7 targets):
//   1. enqueue latency from the trading thread: p50/p99/p99.9 of StoreProducer::enqueue with a
//      consumer thread draining the ring (target p99 < 200 ns);
//   2. sustained fills/s into PostgreSQL through the whole pipeline (ring -> journal fsync ->
//      COPY + INSERT ... ON CONFLICT in batch transactions), against a throwaway server started
//      with PostgreSQL's default durability (fsync on, full_page_writes on); the store's own
//      session commits batches with synchronous_commit off (the fsync'd journal covers them) and
//      makes a synchronous commit before each journal checkpoint (target >= 50,000/s).
// Usage: bench_store [fills (default 300000)] [batch_size (default 1000)]
#include <algorithm>
#include <atomic>
#include <new>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "pg_server.hpp"
#include "tradingbot/store/store.hpp"

using namespace tb::store;

// Counts every heap allocation in the process, so the enqueue loop can prove it makes none.
static std::atomic<std::uint64_t> g_allocations{0};
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " (1 min), " + five + " (5 min)";
}

FillRecord fill(std::int64_t id) {
  FillRecord f;
  f.trade_id = id;
  f.symbol = *tb::Symbol::parse(id % 2 == 0 ? "BTCUSDT" : "ETHUSDT");
  f.client_order_id = "bench-order-0000000001";
  f.exchange_order_id = 1'000'000 + id / 4;
  f.side = id % 2 == 0 ? tb::Side::Buy : tb::Side::Sell;
  f.price = tb::Price::from_raw(6'183'763'000'000 + id);
  f.qty = tb::Qty::from_raw(12'345 + id % 1000);
  f.quote_qty = tb::notional(f.price, f.qty);
  f.commission = tb::Qty::from_raw(12);
  f.commission_asset = "BNB";
  f.trade_time_ns = tb::wall_clock_ns();
  return f;
}

double pct(std::vector<std::int64_t>& v, double p) {
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}

void bench_enqueue() {
  constexpr std::size_t kSamples = 2'000'000;
  RecordQueue queue(65536);
  StoreStats stats;
  StoreProducer producer(queue, stats);
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    StoreRecord batch[256];
    while (!done.load(std::memory_order_relaxed)) {
      if (queue.pop_some(batch, 256) == 0) std::this_thread::yield();
    }
  });
  // Timer overhead, to show what the figures include.
  std::vector<std::int64_t> overhead(100'000);
  for (auto& o : overhead) {
    const auto a = std::chrono::steady_clock::now();
    const auto b = std::chrono::steady_clock::now();
    o = std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
  }
  std::vector<StoreRecord> records;
  records.reserve(1024);
  for (int i = 0; i < 1024; ++i) records.emplace_back(fill(i));
  std::vector<std::int64_t> lat(kSamples);
  const std::uint64_t allocations_before = g_allocations.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < kSamples; ++i) {
    const auto a = std::chrono::steady_clock::now();
    producer.enqueue(records[i & 1023]);
    const auto b = std::chrono::steady_clock::now();
    lat[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
    if ((i & 63) == 0) {  // a trading thread does other work between records
      for (int spin = 0; spin < 200; ++spin) asm volatile("");
    }
  }
  const std::uint64_t allocations = g_allocations.load(std::memory_order_relaxed) - allocations_before;
  done = true;
  consumer.join();
  const auto s = stats.snapshot();
  std::printf("enqueue latency (%zu enqueues of a %zu-byte record, consumer draining on another thread)\n", kSamples,
              sizeof(StoreRecord));
  std::printf("  p50 %.0f ns   p99 %.0f ns   p99.9 %.0f ns   (target p99 < 200 ns; includes clock read, "
              "median %.0f ns)\n",
              pct(lat, 0.50), pct(lat, 0.99), pct(lat, 0.999), pct(overhead, 0.5));
  std::printf("  heap allocations during the %zu enqueues: %llu (target 0; any here are overflow parks while the ring was full: %llu full events, %llu parked)\n",
              kSamples, static_cast<unsigned long long>(allocations), static_cast<unsigned long long>(s.queue_full),
              static_cast<unsigned long long>(s.overflowed));
}

// CPU seconds (user + system) a process has used, from /proc/<pid>/stat.
double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void bench_fills(std::int64_t count, std::size_t batch) {
  tb::test::PgServer server(tb::test::PgServer::Options{true});
  if (!server.running()) {
    std::printf("fills/s into PostgreSQL: SKIPPED, cannot start a throwaway server: %s\n", server.error().c_str());
    return;
  }
  const auto db = server.create_database("bench");
  char templ[] = "/tmp/tb-store-bench-XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(templ);
  StoreOptions o;
  o.conninfo = db;
  o.journal_dir = dir;
  o.batch_size = batch;
  o.flush_interval = std::chrono::milliseconds(5);
  // The run ends when the last batch is durable (a synchronous commit at a checkpoint): keep
  // that final wait short; steady-state throughput does not depend on it.
  o.checkpoint_interval = std::chrono::milliseconds(200);
  {
    auto opened = Store::open(o);
    if (!opened) {
      std::printf("fills/s: cannot open store: %s\n", opened.error().message.c_str());
      return;
    }
    auto& store = *opened.value();
    int backend = 0;
    {
      pqxx::connection conn(db);
      pqxx::read_transaction tx(conn);
      const auto r = tx.exec("SELECT pid FROM pg_stat_activity WHERE application_name = 'tradingbot-store'");
      if (!r.empty()) backend = r[0][0].as<int>();
    }
    const double server_cpu0 = backend != 0 ? cpu_seconds(backend) : 0;
    const double client_cpu0 = own_cpu_seconds();
    store.start();
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 1; i <= count; ++i) {
      store.producer().enqueue(fill(i));
      if ((i & 255) == 0) store.producer().pump();
    }
    const auto t_enq = std::chrono::steady_clock::now();
    const bool idle = store.wait_idle(std::chrono::minutes(5));
    const auto t1 = std::chrono::steady_clock::now();
    const auto s = store.snapshot();
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    std::printf("fills into PostgreSQL (%lld fills, batch %zu, journal fdatasync per batch, server fsync on, "
                "async batch commits + synchronous commit per checkpoint)%s\n",
                static_cast<long long>(count), batch, idle ? "" : " [DID NOT FINISH]");
    std::printf("  %.0f fills/s end to end (%.2f s; enqueue phase %.2f s)   (target >= 50,000/s)\n",
                static_cast<double>(s.db_written) / secs, secs, std::chrono::duration<double>(t_enq - t0).count());
    const double server_cpu = backend != 0 ? cpu_seconds(backend) - server_cpu0 : 0;
    const double client_cpu = own_cpu_seconds() - client_cpu0;
    std::printf("  CPU used: PostgreSQL backend %.2f s, bench process (enqueue + store thread) %.2f s; CPU-bound capacity ~%.0f fills/s per backend core\n",
                server_cpu, client_cpu, server_cpu > 0 ? static_cast<double>(s.db_written) / server_cpu : 0.0);
    std::printf("  db_written %llu, journaled %llu, queue_full %llu, db_errors %llu, journal %llu bytes\n",
                static_cast<unsigned long long>(s.db_written), static_cast<unsigned long long>(s.journaled),
                static_cast<unsigned long long>(s.queue_full), static_cast<unsigned long long>(s.db_errors),
                static_cast<unsigned long long>(s.journal_bytes));
    store.stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const std::int64_t fills = argc > 1 ? std::atoll(argv[1]) : 300'000;
  const std::size_t batch = argc > 2 ? static_cast<std::size_t>(std::atoll(argv[2])) : 1000;
  std::printf("hardware threads: %u, load average %s (other work on the machine shares these cores)\n",
              std::thread::hardware_concurrency(), load_average().c_str());
  bench_enqueue();
  bench_fills(fills, batch);
  return 0;
}

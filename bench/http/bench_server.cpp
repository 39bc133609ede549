// http_bench_server: runs tb::http::Server with GET /health (the app's cheapest route) so wrk can
// be pointed at it and compared with nginx `return 200`. Main thread waits for SIGINT/SIGTERM
// through sigwait (no work in a signal handler), then stops the server and prints its stats and
// the heap allocations per request made while serving (STYLE.md habit 4: count allocations).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <new>

#include "allocation_counter.hpp"
#include "tradingbot/http/server.hpp"


int main(int argc, char** argv) {
  tb::config::HttpConfig config;
  config.listen_host = "127.0.0.1";
  config.listen_port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  config.listen = config.listen_host + ":" + std::to_string(config.listen_port);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before the HTTP thread starts, so it inherits the mask

  tb::http::Router router;
  router.get("/health", [](const tb::http::Request&, tb::http::Response& res) { res.body.assign(R"({"status":"ok"})"); });
  tb::http::Server server(config, std::move(router));
  const auto started = server.start();
  if (!started) {
    std::fprintf(stderr, "%s\n", started.error().message.c_str());
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(started.value()));
  std::fflush(stdout);

  const std::uint64_t allocations_at_start = tb::bench::allocation_count();
  int received = 0;
  sigwait(&signals, &received);
  const std::uint64_t allocations_while_serving = tb::bench::allocation_count() - allocations_at_start;
  server.stop();
  const auto stats = server.stats();
  std::printf("allocations=%llu (%.4f per request; per-connection buffers included)\n",
              static_cast<unsigned long long>(allocations_while_serving),
              stats.requests == 0 ? 0.0
                                  : static_cast<double>(allocations_while_serving) / static_cast<double>(stats.requests));
  std::printf("requests=%llu 2xx=%llu 4xx=%llu rejected=%llu timeouts(read/idle/write)=%llu/%llu/%llu\n",
              static_cast<unsigned long long>(stats.requests), static_cast<unsigned long long>(stats.responses_by_class[1]),
              static_cast<unsigned long long>(stats.responses_by_class[3]),
              static_cast<unsigned long long>(stats.connections_rejected),
              static_cast<unsigned long long>(stats.read_timeouts), static_cast<unsigned long long>(stats.idle_timeouts),
              static_cast<unsigned long long>(stats.write_timeouts));
  return 0;
}

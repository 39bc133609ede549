#include "tradingbot/app/sim_command.hpp"

#include <cstdio>
#include <fstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "tradingbot/sim/sim_config.hpp"
#include "tradingbot/sim/sim_server.hpp"

namespace tb::app {

int run_sim_command(const std::string& config_path) {
  auto cfg = sim::load_sim_config_file(config_path);
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
    return 1;
  }
  std::string ca_file;
  auto tls = sim::make_sim_tls(cfg.value().cert_dir, ca_file);
  if (!tls) {
    std::fprintf(stderr, "tradingbot sim: certificates in %s: %s\n", cfg.value().cert_dir.c_str(), tls.error().message.c_str());
    return 3;
  }
  const std::string port_file = cfg.value().port_file;
  const std::string host = cfg.value().listen_host;
  boost::asio::io_context ioc(1);
  sim::SimServer server(ioc, std::move(cfg).value(), tls.value());
  auto port = server.start();
  if (!port) {
    std::fprintf(stderr, "tradingbot sim: %s\n", port.error().message.c_str());
    return 3;
  }
  if (!port_file.empty()) {
    std::ofstream out(port_file, std::ios::trunc);
    out << port.value() << '\n';
    if (!out) {
      std::fprintf(stderr, "tradingbot sim: cannot write the port to %s\n", port_file.c_str());
      return 3;
    }
  }
  std::printf("tradingbot sim: listening on https://%s:%u (REST /api/v3, streams /stream and /ws, WS API /ws-api/v3, admin /sim/admin); "
              "CA certificate: %s\n",
              host.c_str(), static_cast<unsigned>(port.value()), ca_file.c_str());
  std::fflush(stdout);
  spdlog::info("sim: listening on {}:{}, CA {}", host, port.value(), ca_file);

  // Shutdown on the loop (STYLE habit 10): stop accepting, close sessions, let handlers drain.
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("sim: signal {}: stopping", signal);
    server.stop();
    ioc.stop();
  });
  ioc.run();
  return 0;
}

}  // namespace tb::app

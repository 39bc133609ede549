// Shared by the net tests: a private PKI generated once per test process into a temp directory,
// TLS contexts built from it, and a helper that runs an io_context until a condition holds.
// Test-only; single-threaded (everything runs on the test's io_context).
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "tradingbot/net/certificate_authority.hpp"
#include "tradingbot/net/tls_context.hpp"

namespace tb::net::test {

struct TestPki {
  std::filesystem::path dir;
  std::filesystem::path ca_file;           // trusted by the test clients
  IssuedCertificate localhost;             // localhost + 127.0.0.1, signed by the trusted CA
  IssuedCertificate wrong_host;            // wrong.example only, signed by the trusted CA
  IssuedCertificate unknown_ca_localhost;  // localhost, signed by a CA nobody trusts
};

template <class T>
T must(Result<T> r) {
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

inline const TestPki& pki() {
  static const TestPki instance = [] {
    TestPki p;
    p.dir = std::filesystem::temp_directory_path() / ("tb-net-test-" + std::to_string(::getpid()));
    auto ca = must(CertificateAuthority::open_or_create(p.dir / "trusted"));
    p.ca_file = ca.ca_cert_file();
    p.localhost = must(ca.issue_server_certificate("localhost", {"localhost", "127.0.0.1"}));
    p.wrong_host = must(ca.issue_server_certificate("wrong", {"wrong.example"}));
    auto rogue = must(CertificateAuthority::open_or_create(p.dir / "rogue", "rogue CA"));
    p.unknown_ca_localhost = must(rogue.issue_server_certificate("localhost", {"localhost", "127.0.0.1"}));
    return p;
  }();
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  };
  static const Cleanup cleanup{instance.dir};
  return instance;
}

inline TlsContextPtr client_tls() {
  return must(make_client_tls_context(TlsClientOptions{pki().ca_file.string(), true}));
}

inline TlsContextPtr server_tls(const IssuedCertificate& cert) {
  return must(make_server_tls_context(cert.cert_file.string(), cert.key_file.string()));
}

// Runs `ioc` until `done()` or `limit` passes; returns done().
inline bool run_until(boost::asio::io_context& ioc, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    if (ioc.stopped()) ioc.restart();
    ioc.run_for(std::chrono::milliseconds(5));
    if (ioc.stopped()) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // no work: do not spin
  }
  return done();
}

// Runs `ioc` for `duration` regardless.
inline void run_for(boost::asio::io_context& ioc, std::chrono::milliseconds duration) {
  run_until(ioc, [] { return false; }, duration);
}

}  // namespace tb::net::test

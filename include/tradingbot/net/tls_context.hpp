// TLS contexts for every client and server in the process.
// Client: TLS 1.2 or newer, peer verification on, trusting the system store (always) plus an
// optional extra PEM trust anchor (`exchange.ca_file`; tests and the simulator use a private CA).
// Host-name verification and SNI are per connection (WebSocketClient and HttpsConnectionPool
// set them); configure_client_stream() does both for a stream's SSL handle.
// Server: certificate chain + private key from PEM files (the simulator and the test fakes).
// Built at start-up, on any thread; afterwards a context is shared read-only by the streams of
// the io_context thread that uses it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>

#include "tradingbot/core/result.hpp"

namespace tb::net {

using TlsContextPtr = std::shared_ptr<boost::asio::ssl::context>;

struct TlsClientOptions {
  std::string extra_ca_file;     // "" = none; must exist and hold at least one PEM certificate
  bool use_system_store = true;  // only tests that prove "unknown CA is refused" turn it off
};

// Client context: TLS >= 1.2, verify_peer, system trust store + extra CA.
[[nodiscard]] Result<TlsContextPtr> make_client_tls_context(const TlsClientOptions& options = {});
// Server context: TLS >= 1.2, certificate chain and key from PEM files.
[[nodiscard]] Result<TlsContextPtr> make_server_tls_context(const std::string& cert_chain_file,
                                                            const std::string& private_key_file);

// Per-connection client settings on an SSL handle: SNI (skipped for IP literals, RFC 6066) and
// host-name verification against `host` (DNS name or IP literal). False if OpenSSL refused.
[[nodiscard]] bool configure_client_ssl(SSL* ssl, const std::string& host);

// True for an IPv4/IPv6 literal ("127.0.0.1", "::1").
[[nodiscard]] bool is_ip_literal(std::string_view host);

}  // namespace tb::net

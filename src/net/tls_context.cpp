#include "tradingbot/net/tls_context.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace tb::net {
namespace ssl = boost::asio::ssl;

namespace {

std::string describe(const boost::system::error_code& ec) { return ec.message(); }

void harden(ssl::context& ctx) {
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                  ssl::context::single_dh_use);
}

// Whether `dir` holds OpenSSL's subject-hash links ("5ad8a5d6.0"), as Debian's ca-certificates
// keeps them in /etc/ssl/certs.
bool has_hash_links(const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() == 10 && name.compare(8, 2, ".0") == 0 &&
        name.find_first_not_of("0123456789abcdef") == 8) {
      return true;
    }
  }
  return false;
}

// The system trust store. OpenSSL's default paths decode the whole CA bundle file (about 140
// certificates: ~90k allocations, tens of milliseconds and half a megabyte per context) although
// a connection needs one root. From the hashed directory OpenSSL loads a root by subject hash
// only when a chain needs it. The directory is used when it has hash links and the environment
// does not name a bundle (SSL_CERT_FILE); otherwise OpenSSL's defaults, exactly as before.
// Returns an empty string, or what could not be loaded.
std::string load_system_store(SSL_CTX* ctx) {
  const char* env_file = std::getenv(X509_get_default_cert_file_env());
  const char* env_dir = std::getenv(X509_get_default_cert_dir_env());
  const std::string dir = env_dir != nullptr ? env_dir : X509_get_default_cert_dir();
  if (env_file == nullptr && has_hash_links(dir)) {
    return SSL_CTX_load_verify_dir(ctx, dir.c_str()) == 1 ? std::string() : "directory " + dir;
  }
  if (SSL_CTX_set_default_verify_paths(ctx) == 1) return {};
  return "file " + std::string(env_file != nullptr ? env_file : X509_get_default_cert_file()) + ", directory " + dir;
}

}  // namespace

bool is_ip_literal(std::string_view host) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  return !ec;
}

Result<TlsContextPtr> make_client_tls_context(const TlsClientOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  harden(*ctx);
  boost::system::error_code ec;
  if (options.use_system_store) {
    if (const std::string failed = load_system_store(ctx->native_handle()); !failed.empty()) {
      return Error{"cannot load the system trust store (" + failed + ")"};
    }
  }
  if (!options.extra_ca_file.empty()) {
    ctx->load_verify_file(options.extra_ca_file, ec);
    if (ec) return Error{"cannot load CA file '" + options.extra_ca_file + "': " + describe(ec)};
  }
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (ec) return Error{"cannot enable peer verification: " + describe(ec)};
  return ctx;
}

Result<TlsContextPtr> make_server_tls_context(const std::string& cert_chain_file,
                                              const std::string& private_key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  harden(*ctx);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_chain_file, ec);
  if (ec) return Error{"cannot load certificate '" + cert_chain_file + "': " + describe(ec)};
  ctx->use_private_key_file(private_key_file, ssl::context::pem, ec);
  if (ec) return Error{"cannot load private key '" + private_key_file + "': " + describe(ec)};
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Error{"private key '" + private_key_file + "' does not match '" + cert_chain_file + "'"};
  }
  return ctx;
}

bool configure_client_ssl(SSL* ssl_handle, const std::string& host) {
  // SSL_set_tlsext_host_name() spelled out: the macro's C cast trips -Wold-style-cast.
  if (!is_ip_literal(host) && SSL_ctrl(ssl_handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                       const_cast<char*>(host.c_str())) != 1) {
    return false;
  }
  // Host-name (or IP) check inside OpenSSL's chain verification: a certificate for another name
  // fails the handshake with "certificate verify failed" exactly like an unknown CA.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (is_ip_literal(host)) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  return X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

}  // namespace tb::net

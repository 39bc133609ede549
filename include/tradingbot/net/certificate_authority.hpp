// CertificateAuthority: a private CA for loopback TLS (exchange simulator, tests).
// open_or_create() loads `ca.pem`/`ca.key` from a directory, or generates a fresh P-256 CA there
// when they are missing, unreadable, mismatched or about to expire. issue_server_certificate()
// writes `<name>.pem`/`<name>.key` for the given DNS names and IP addresses (subjectAltName),
// or reuses the existing pair when it is still valid, signed by this CA, matches its key and
// covers every requested name. Keys are written with mode 0600. OpenSSL 3 EVP APIs only.
// Start-up code, any one thread at a time (it writes files); never on the trading hot path.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "tradingbot/core/result.hpp"

namespace tb::net {

struct IssuedCertificate {
  std::filesystem::path cert_file;  // leaf certificate (PEM)
  std::filesystem::path key_file;   // its private key (PEM, 0600)
  bool reused = false;              // true when valid files were already there
};

class CertificateAuthority {
 public:
  [[nodiscard]] static Result<CertificateAuthority> open_or_create(
      const std::filesystem::path& dir, std::string common_name = "tradingbot private CA");

  // subject_alt_names: DNS names ("localhost", "stream.binance.test") or IP literals ("127.0.0.1").
  [[nodiscard]] Result<IssuedCertificate> issue_server_certificate(
      std::string_view name, const std::vector<std::string>& subject_alt_names) const;

  [[nodiscard]] const std::filesystem::path& ca_cert_file() const noexcept { return ca_cert_file_; }
  [[nodiscard]] bool reused() const noexcept { return reused_; }

  CertificateAuthority(CertificateAuthority&&) noexcept;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept;
  ~CertificateAuthority();

 private:
  struct KeyFree {
    void operator()(EVP_PKEY* key) const noexcept;
  };
  struct CertFree {
    void operator()(X509* cert) const noexcept;
  };
  CertificateAuthority() = default;

  std::filesystem::path dir_;
  std::filesystem::path ca_cert_file_;
  std::unique_ptr<EVP_PKEY, KeyFree> key_;
  std::unique_ptr<X509, CertFree> cert_;
  bool reused_ = false;
};

}  // namespace tb::net

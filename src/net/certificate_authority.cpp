#include "tradingbot/net/certificate_authority.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tradingbot/net/tls_context.hpp"

namespace tb::net {
namespace {

namespace fs = std::filesystem;

constexpr long kCaDays = 3650;
constexpr long kLeafDays = 397;
constexpr std::time_t kRenewBeforeSeconds = 7 * 24 * 3600;

struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free_all(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct BnFree {
  void operator()(BIGNUM* bn) const noexcept { BN_free(bn); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* ext) const noexcept { X509_EXTENSION_free(ext); }
};

std::string openssl_error(std::string_view what) {
  std::string message(what);
  char buf[256];
  while (const unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buf, sizeof buf);
    message += ": ";
    message += buf;
  }
  return message;
}

// Writes via a temp file + rename so a crash never leaves half a PEM behind.
Result<bool> write_file(const fs::path& path, const std::string& data, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Error{"cannot create " + tmp.string() + ": " + std::strerror(errno)};
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      return Error{"cannot write " + tmp.string() + ": " + err};
    }
    done += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Error{"cannot rename " + tmp.string() + ": " + ec.message()};
  return true;
}

template <class Writer>
Result<std::string> to_pem(Writer&& writer, std::string_view what) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || writer(bio.get()) != 1) return Error{openssl_error(what)};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

X509* read_cert(const fs::path& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return nullptr;
  }
  X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  return cert;
}

EVP_PKEY* read_key(const fs::path& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return nullptr;
  }
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  return key;
}

bool valid_for_a_while(const X509* cert) {
  std::time_t limit = std::time(nullptr) + kRenewBeforeSeconds;
  return X509_cmp_time(X509_get0_notAfter(cert), &limit) > 0 &&
         X509_cmp_current_time(X509_get0_notBefore(cert)) < 0;
}

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// Builds and signs a certificate for `key` (subject CN) issued by issuer/issuer_key; issuer ==
// nullptr makes it self-signed.
X509* build_cert(EVP_PKEY* key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key,
                 long days, const std::vector<std::pair<int, std::string>>& extensions) {
  X509* cert = X509_new();
  if (cert == nullptr) return nullptr;
  bool ok = X509_set_version(cert, 2) == 1;
  std::unique_ptr<BIGNUM, BnFree> serial(BN_new());
  ok = ok && serial && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
       BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr;
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert), days * 24 * 3600) != nullptr;
  X509_NAME* name = X509_get_subject_name(cert);
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                        reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                        -1, -1, 0) == 1;
  ok = ok && X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1;
  ok = ok && X509_set_pubkey(cert, key) == 1;
  for (const auto& [nid, value] : extensions) {
    ok = ok && add_extension(cert, issuer != nullptr ? issuer : cert, nid, value.c_str());
  }
  ok = ok && X509_sign(cert, issuer_key, EVP_sha256()) > 0;
  if (!ok) {
    X509_free(cert);
    return nullptr;
  }
  return cert;
}

bool covers(X509* cert, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    const int r = is_ip_literal(n) ? X509_check_ip_asc(cert, n.c_str(), 0)
                                   : X509_check_host(cert, n.c_str(), n.size(), 0, nullptr);
    if (r != 1) return false;
  }
  return true;
}

}  // namespace

void CertificateAuthority::KeyFree::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
void CertificateAuthority::CertFree::operator()(X509* cert) const noexcept { X509_free(cert); }

CertificateAuthority::CertificateAuthority(CertificateAuthority&&) noexcept = default;
CertificateAuthority& CertificateAuthority::operator=(CertificateAuthority&&) noexcept = default;
CertificateAuthority::~CertificateAuthority() = default;

Result<CertificateAuthority> CertificateAuthority::open_or_create(const fs::path& dir,
                                                                  std::string common_name) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir.string() + ": " + ec.message()};

  CertificateAuthority ca;
  ca.dir_ = dir;
  ca.ca_cert_file_ = dir / "ca.pem";
  const fs::path key_file = dir / "ca.key";

  ca.cert_.reset(read_cert(ca.ca_cert_file_));
  ca.key_.reset(read_key(key_file));
  if (ca.cert_ && ca.key_ && X509_check_private_key(ca.cert_.get(), ca.key_.get()) == 1 &&
      X509_check_ca(ca.cert_.get()) >= 1 && valid_for_a_while(ca.cert_.get())) {
    ca.reused_ = true;
    return ca;
  }
  ERR_clear_error();

  ca.key_.reset(EVP_EC_gen("P-256"));
  if (!ca.key_) return Error{openssl_error("CA key generation failed")};
  ca.cert_.reset(build_cert(ca.key_.get(), common_name, nullptr, ca.key_.get(), kCaDays,
                            {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                             {NID_key_usage, "critical,keyCertSign,cRLSign"},
                             {NID_subject_key_identifier, "hash"}}));
  if (!ca.cert_) return Error{openssl_error("CA certificate creation failed")};

  auto key_pem = to_pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, ca.key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }, "CA key encoding failed");
  if (!key_pem) return key_pem.error();
  auto cert_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, ca.cert_.get()); },
                         "CA certificate encoding failed");
  if (!cert_pem) return cert_pem.error();
  if (auto r = write_file(key_file, key_pem.value(), 0600); !r) return r.error();
  if (auto r = write_file(ca.ca_cert_file_, cert_pem.value(), 0644); !r) return r.error();
  return ca;
}

Result<IssuedCertificate> CertificateAuthority::issue_server_certificate(
    std::string_view name, const std::vector<std::string>& subject_alt_names) const {
  if (name.empty() || name.find('/') != std::string_view::npos || name == "ca") {
    return Error{"bad certificate name '" + std::string(name) + "'"};
  }
  if (subject_alt_names.empty()) return Error{"a server certificate needs at least one name"};
  IssuedCertificate out{dir_ / (std::string(name) + ".pem"), dir_ / (std::string(name) + ".key"), false};

  {
    std::unique_ptr<X509, CertFree> cert(read_cert(out.cert_file));
    std::unique_ptr<EVP_PKEY, KeyFree> key(read_key(out.key_file));
    if (cert && key && X509_check_private_key(cert.get(), key.get()) == 1 &&
        X509_verify(cert.get(), key_.get()) == 1 && valid_for_a_while(cert.get()) &&
        covers(cert.get(), subject_alt_names)) {
      out.reused = true;
      return out;
    }
    ERR_clear_error();
  }

  std::string san;
  for (const auto& n : subject_alt_names) {
    if (!san.empty()) san += ',';
    san += (is_ip_literal(n) ? "IP:" : "DNS:") + n;
  }
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  if (!key) return Error{openssl_error("server key generation failed")};
  std::unique_ptr<X509, CertFree> cert(
      build_cert(key.get(), subject_alt_names.front(), cert_.get(), key_.get(), kLeafDays,
                 {{NID_basic_constraints, "critical,CA:FALSE"},
                  {NID_key_usage, "critical,digitalSignature"},
                  {NID_ext_key_usage, "serverAuth"},
                  {NID_subject_key_identifier, "hash"},
                  {NID_authority_key_identifier, "keyid:always"},
                  {NID_subject_alt_name, san}}));
  if (!cert) return Error{openssl_error("server certificate creation failed")};

  auto key_pem = to_pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }, "server key encoding failed");
  if (!key_pem) return key_pem.error();
  // The chain file holds leaf then CA, so clients that only trust the CA can build the path.
  auto cert_pem = to_pem([&](BIO* b) {
    return PEM_write_bio_X509(b, cert.get()) == 1 && PEM_write_bio_X509(b, cert_.get()) == 1 ? 1 : 0;
  }, "server certificate encoding failed");
  if (!cert_pem) return cert_pem.error();
  if (auto r = write_file(out.key_file, key_pem.value(), 0600); !r) return r.error();
  if (auto r = write_file(out.cert_file, cert_pem.value(), 0644); !r) return r.error();
  return out;
}

}  // namespace tb::net

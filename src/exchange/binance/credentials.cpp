#include "tradingbot/exchange/binance/credentials.hpp"

#include <openssl/crypto.h>

#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <ostream>
#include <string>

namespace tb::binance {

SecretString::SecretString(std::string_view value) : data_(new char[value.size() + 1]), size_(value.size()) {
  if (!value.empty()) std::memcpy(data_.get(), value.data(), value.size());
  data_[size_] = '\0';
}

SecretString::SecretString(SecretString&& other) noexcept : data_(std::move(other.data_)), size_(other.size_) {
  other.size_ = 0;
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    wipe();
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

SecretString::~SecretString() { wipe(); }

void SecretString::wipe() noexcept {
  if (data_) OPENSSL_cleanse(data_.get(), size_ + 1);
  data_.reset();
  size_ = 0;
}

std::string SecretString::redacted() const {
  if (size_ == 0) return "<empty>";
  // Short values would be mostly revealed by a 4-char prefix: show nothing of them.
  if (size_ < 16) return "\xE2\x80\xA6";
  return std::string(data_.get(), 4) + "\xE2\x80\xA6";
}

std::ostream& operator<<(std::ostream& os, const SecretString& secret) { return os << secret.redacted(); }

std::string credential_problem(const char* name, std::string_view value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') continue;
    const char* what = c == '\n' || c == '\r'   ? "a line break"
                       : c == ' ' || c == '\t' ? "a space"
                       : c < 0x20 || c == 0x7f ? "a control character"
                       : c >= 0x80             ? "a non-ASCII byte"
                                               : "a quote or backslash";
    return std::string(name) + " has " + what + " at position " + std::to_string(i + 1) + " of " +
           std::to_string(value.size()) + (i + 1 == value.size() ? " (the last one: kept from the file it came from?)" : "") +
           "; Binance keys and secrets are printable ASCII without spaces";
  }
  return {};
}

namespace {

Result<SecretString> required_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return Error{std::string("environment variable ") + name + " is not set"};
  }
  if (std::string problem = credential_problem(name, value); !problem.empty()) return Error{std::move(problem)};
  return SecretString(value);
}

}  // namespace

Result<HmacCredentials> hmac_credentials_from_env() {
  auto key = required_env(kEnvApiKey);
  if (!key) return key.error();
  auto secret = required_env(kEnvApiSecret);
  if (!secret) return secret.error();
  return HmacCredentials{std::move(key).value(), std::move(secret).value()};
}

Result<Ed25519Credentials> ed25519_credentials_from_env() {
  auto key = required_env(kEnvApiKey);
  if (!key) return key.error();
  const char* path = std::getenv(kEnvEd25519KeyFile);
  if (path == nullptr || *path == '\0') {
    return Error{std::string("environment variable ") + kEnvEd25519KeyFile + " is not set"};
  }
  // Read into a buffer we wipe ourselves (a stream's internal buffer could not be wiped).
  std::FILE* file = std::fopen(path, "rb");
  if (file == nullptr) return Error{std::string("cannot read Ed25519 key file ") + path};
  constexpr std::size_t kMaxPem = 16 * 1024;
  auto buffer = std::make_unique<char[]>(kMaxPem);
  const std::size_t n = std::fread(buffer.get(), 1, kMaxPem, file);
  std::fclose(file);
  SecretString secret(std::string_view(buffer.get(), n));
  OPENSSL_cleanse(buffer.get(), kMaxPem);
  if (secret.reveal().find("PRIVATE KEY") == std::string_view::npos) {
    return Error{std::string("Ed25519 key file ") + path + " holds no PEM private key"};
  }
  return Ed25519Credentials{std::move(key).value(), std::move(secret), path};
}

}  // namespace tb::binance

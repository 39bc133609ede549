// API credentials, loaded from the environment only (never argv, never the config file):
//   BINANCE_API_KEY          the API key (every key type)
//   BINANCE_API_SECRET       the HMAC secret (HMAC keys)
//   BINANCE_ED25519_KEY_FILE path of a PKCS#8 PEM Ed25519 private key (Ed25519 keys)
// SecretString keeps the bytes in one heap block that is wiped (OPENSSL_cleanse) on destruction
// and never copied; streaming it or calling redacted() shows only the first 4 characters + "…",
// so a stray log line cannot leak a key. Loaded once at start-up on the main thread; afterwards
// read-only, so any thread may read it.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "tradingbot/core/result.hpp"

namespace tb::binance {

class SecretString {
 public:
  SecretString() noexcept = default;
  explicit SecretString(std::string_view value);
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  ~SecretString();

  // The real bytes, for the signer and the X-MBX-APIKEY header only. Never log this.
  [[nodiscard]] std::string_view reveal() const noexcept { return {data_.get(), size_}; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  // "vmPU…" (first 4 bytes + U+2026), or "<empty>"; short values show only "…".
  [[nodiscard]] std::string redacted() const;

 private:
  void wipe() noexcept;
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

// Formatting a secret prints the redacted form.
std::ostream& operator<<(std::ostream& os, const SecretString& secret);

enum class KeyType : unsigned char { Hmac, Ed25519 };

struct HmacCredentials {
  SecretString api_key;
  SecretString secret;
};

struct Ed25519Credentials {
  SecretString api_key;
  SecretString private_key_pem;  // the file's contents
  std::string key_file;          // the path, for error messages
};

inline constexpr const char* kEnvApiKey = "BINANCE_API_KEY";
inline constexpr const char* kEnvApiSecret = "BINANCE_API_SECRET";
inline constexpr const char* kEnvEd25519KeyFile = "BINANCE_ED25519_KEY_FILE";

// Errors name the missing variable, never its value.
// Why `value`, the contents of environment variable `name` (an API key or HMAC secret), cannot
// be one, or "" when it can: Binance's keys and secrets are printable ASCII without spaces,
// quotes or backslashes, and the usual accident, a newline or space kept from the file the value
// was copied from, would otherwise surface as -2014/-1022 ("invalid signature") from the
// exchange, or as a broken X-MBX-APIKEY header. The message names the position, never the value.
[[nodiscard]] std::string credential_problem(const char* name, std::string_view value);

[[nodiscard]] Result<HmacCredentials> hmac_credentials_from_env();
[[nodiscard]] Result<Ed25519Credentials> ed25519_credentials_from_env();

}  // namespace tb::binance

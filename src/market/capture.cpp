#include "tradingbot/market/capture.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tb::market {
namespace {

inline gzFile as_gz(void* p) noexcept { return static_cast<gzFile>(p); }

bool starts_with(std::string_view s, std::string_view prefix) noexcept { return s.substr(0, prefix.size()) == prefix; }

Symbol symbol_from_url(std::string_view url) noexcept {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = url.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    if (starts_with(param, "symbol=")) {
      if (auto s = Symbol::parse(param.substr(7))) return *s;
      return {};
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace

bool parse_capture_timestamp(std::string_view text, Nanos& out) noexcept {
  if (text.empty()) return false;
  std::int64_t whole = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (__builtin_mul_overflow(whole, std::int64_t{10}, &whole) ||
        __builtin_add_overflow(whole, std::int64_t{text[i] - '0'}, &whole)) {
      return false;
    }
  }
  if (i == 0) return false;
  if (i == text.size()) {  // integer: nanoseconds
    out = whole;
    return true;
  }
  if (text[i] != '.') return false;
  ++i;
  std::int64_t frac = 0;
  int digits = 0;
  const std::size_t frac_start = i;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (digits < 9) {
      frac = frac * 10 + (text[i] - '0');
      ++digits;
    }
  }
  if (i != text.size() || i == frac_start) return false;
  for (; digits < 9; ++digits) frac *= 10;
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(whole, kNanosPerSecond, &ns) || __builtin_add_overflow(ns, frac, &ns)) return false;
  out = ns;
  return true;
}

bool parse_capture_line(std::string_view line, CaptureRecord& out, bool& is_header) noexcept {
  is_header = false;
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return false;
  if (starts_with(line, "wss://") || starts_with(line, "ws://")) {
    is_header = true;
    return false;
  }
  out.url = {};
  out.url_symbol = {};
  if (starts_with(line, "https://") || starts_with(line, "http://")) {
    const std::size_t arrow = line.find(" -> ");
    if (arrow == std::string_view::npos) return false;
    out.url = line.substr(0, arrow);
    out.url_symbol = symbol_from_url(out.url);
    line.remove_prefix(arrow + 4);
    out.form = CaptureLineForm::CryptofeedHttp;
  } else {
    out.form = CaptureLineForm::Native;
  }
  std::size_t i = 0;
  while (i < line.size() && ((line[i] >= '0' && line[i] <= '9') || line[i] == '.')) ++i;
  if (!parse_capture_timestamp(line.substr(0, i), out.recv_ns)) return false;
  if (i < line.size() && line[i] == ':') {
    if (out.form == CaptureLineForm::Native) out.form = CaptureLineForm::CryptofeedWs;
    ++i;
  } else if (out.form == CaptureLineForm::CryptofeedHttp) {
    return false;
  }
  if (i >= line.size() || line[i] != ' ') return false;
  while (i < line.size() && line[i] == ' ') ++i;
  if (i == line.size()) return false;
  out.payload = line.substr(i);
  return true;
}

CaptureReader::CaptureReader() = default;
CaptureReader::~CaptureReader() {
  if (gz_ != nullptr) gzclose(as_gz(gz_));
}
CaptureReader::CaptureReader(CaptureReader&& o) noexcept
    : path_(std::move(o.path_)),
      gz_(std::exchange(o.gz_, nullptr)),
      buf_(std::move(o.buf_)),
      cap_(std::exchange(o.cap_, 0)),
      begin_(std::exchange(o.begin_, 0)),
      end_(std::exchange(o.end_, 0)),
      eof_(o.eof_),
      line_number_(o.line_number_),
      bad_lines_(o.bad_lines_),
      header_(std::move(o.header_)),
      error_(std::move(o.error_)) {}
CaptureReader& CaptureReader::operator=(CaptureReader&& o) noexcept {
  if (this != &o) {
    if (gz_ != nullptr) gzclose(as_gz(gz_));
    path_ = std::move(o.path_);
    gz_ = std::exchange(o.gz_, nullptr);
    buf_ = std::move(o.buf_);
    cap_ = std::exchange(o.cap_, 0);
    begin_ = std::exchange(o.begin_, 0);
    end_ = std::exchange(o.end_, 0);
    eof_ = o.eof_;
    line_number_ = o.line_number_;
    bad_lines_ = o.bad_lines_;
    header_ = std::move(o.header_);
    error_ = std::move(o.error_);
  }
  return *this;
}

Result<CaptureReader> CaptureReader::open(const std::string& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) return Error{"cannot open capture " + path + ": " + std::strerror(errno)};
  gzbuffer(gz, 256 * 1024);
  CaptureReader reader;
  reader.path_ = path;
  reader.gz_ = gz;
  reader.cap_ = kInitialBuffer + kCapturePadding;
  reader.buf_ = std::make_unique<char[]>(reader.cap_);  // zeroed: padding bytes are defined
  return reader;
}

bool CaptureReader::fill() {
  if (eof_ || gz_ == nullptr) return false;
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ + kCapturePadding >= cap_) {  // one line fills the buffer: grow (rare)
    const std::size_t new_cap = 2 * cap_;
    auto bigger = std::make_unique<char[]>(new_cap);
    std::memcpy(bigger.get(), buf_.get(), end_);
    buf_ = std::move(bigger);
    cap_ = new_cap;
  }
  const std::size_t room = cap_ - kCapturePadding - end_;
  const int n = gzread(as_gz(gz_), buf_.get() + end_, static_cast<unsigned>(room));
  if (n < 0) {
    int errnum = 0;
    const char* msg = gzerror(as_gz(gz_), &errnum);
    error_ = path_ + ": read error: " + (msg != nullptr ? msg : "unknown");
    eof_ = true;
    return false;
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  return true;
}

CaptureReader::Status CaptureReader::next(CaptureRecord& out) {
  if (!buf_) return Status::End;
  for (;;) {
    const char* start = buf_.get() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    std::string_view line;
    if (nl != nullptr) {
      const char* stop = static_cast<const char*>(nl);
      line = std::string_view(start, static_cast<std::size_t>(stop - start));
      begin_ += line.size() + 1;
    } else if (!eof_ && fill()) {
      continue;
    } else if (!error_.empty()) {
      return Status::Error;
    } else if (begin_ < end_) {  // last line without a newline
      line = std::string_view(start, end_ - begin_);
      begin_ = end_;
    } else {
      return Status::End;
    }
    ++line_number_;
    bool is_header = false;
    if (parse_capture_line(line, out, is_header)) {
      out.line_number = line_number_;
      out.capacity = cap_ - static_cast<std::size_t>(out.payload.data() - buf_.get());
      return Status::Record;
    }
    if (is_header) {
      header_.assign(line);
    } else if (!line.empty() && line != "\r") {
      ++bad_lines_;
    }
  }
}

CaptureWriter::CaptureWriter() = default;
CaptureWriter::~CaptureWriter() { close(); }
CaptureWriter::CaptureWriter(CaptureWriter&& o) noexcept : gz_(std::exchange(o.gz_, nullptr)), line_(std::move(o.line_)) {}
CaptureWriter& CaptureWriter::operator=(CaptureWriter&& o) noexcept {
  if (this != &o) {
    close();
    gz_ = std::exchange(o.gz_, nullptr);
    line_ = std::move(o.line_);
  }
  return *this;
}

Result<CaptureWriter> CaptureWriter::open(const std::string& path) {
  const bool gzip = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  gzFile gz = gzopen(path.c_str(), gzip ? "wb6" : "wbT");
  if (gz == nullptr) return Error{"cannot create capture " + path + ": " + std::strerror(errno)};
  CaptureWriter writer;
  writer.gz_ = gz;
  writer.line_.reserve(1 << 16);
  return writer;
}

bool CaptureWriter::write_frame(Nanos recv_ns, std::string_view payload) {
  if (gz_ == nullptr) return false;
  line_.clear();
  line_.append(std::to_string(recv_ns));
  line_.push_back(' ');
  line_.append(payload);
  line_.push_back('\n');
  return gzwrite(as_gz(gz_), line_.data(), static_cast<unsigned>(line_.size())) == static_cast<int>(line_.size());
}

bool CaptureWriter::write_snapshot(Nanos recv_ns, const Symbol& symbol, std::string_view rest_json, bool multi_symbol) {
  if (!multi_symbol) return write_frame(recv_ns, rest_json);
  std::string wrapped;
  wrapped.reserve(rest_json.size() + 64);
  wrapped.append("{\"stream\":\"").append(symbol.lower()).append("@depthSnapshot\",\"data\":");
  wrapped.append(rest_json).append("}");
  return write_frame(recv_ns, wrapped);
}

bool CaptureWriter::flush() { return gz_ != nullptr && gzflush(as_gz(gz_), Z_SYNC_FLUSH) == Z_OK; }

bool CaptureWriter::close() {
  if (gz_ == nullptr) return true;
  const bool ok = gzclose(as_gz(gz_)) == Z_OK;
  gz_ = nullptr;
  return ok;
}

}  // namespace tb::market

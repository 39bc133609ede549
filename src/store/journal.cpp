#include "tradingbot/store/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

#include <spdlog/spdlog.h>

namespace tb::store {
namespace {

static_assert(std::endian::native == std::endian::little, "journal frames are little-endian byte copies");

constexpr std::array<char, 8> kMagic = {'T', 'B', 'J', 'O', 'U', 'R', 'N', '1'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::size_t kHeaderSize = 32;
constexpr std::size_t kFrameHeaderSize = 16;  // len, crc, seq
constexpr std::size_t kReadChunk = 1 << 20;

template <std::size_t I = 0>
constexpr std::size_t max_record_size() {
  if constexpr (I == kRecordKinds) {
    return 0;
  } else {
    return std::max(sizeof(std::variant_alternative_t<I, StoreRecord>), max_record_size<I + 1>());
  }
}
constexpr std::size_t kMaxPayload = 1 + max_record_size();

template <class T>
void put(unsigned char* at, T value) noexcept {
  std::memcpy(at, &value, sizeof(T));
}
template <class T>
T get(const unsigned char* at) noexcept {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

std::uint32_t crc_of(std::uint64_t seq, const unsigned char* payload, std::size_t len) noexcept {
  unsigned char seq_bytes[8];
  put(seq_bytes, seq);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, seq_bytes, 8);
  crc = crc32(crc, payload, static_cast<uInt>(len));
  return static_cast<std::uint32_t>(crc);
}

// Appends one frame for `rec` to `out`.
void encode_frame(const SequencedRecord& rec, std::vector<unsigned char>& out) {
  std::visit(
      [&](const auto& r) {
        const std::size_t payload_len = 1 + sizeof(r);
        const std::size_t start = out.size();
        out.resize(start + kFrameHeaderSize + payload_len);
        unsigned char* frame = out.data() + start;
        unsigned char* payload = frame + kFrameHeaderSize;
        payload[0] = static_cast<unsigned char>(rec.record.index());
        std::memcpy(payload + 1, &r, sizeof(r));
        put(frame, static_cast<std::uint32_t>(payload_len));
        put(frame + 4, crc_of(rec.seq, payload, payload_len));
        put(frame + 8, rec.seq);
      },
      rec.record);
}

template <std::size_t I = 0>
bool decode_payload(const unsigned char* payload, std::size_t len, StoreRecord& out) {
  if constexpr (I == kRecordKinds) {
    return false;
  } else {
    if (payload[0] != I) return decode_payload<I + 1>(payload, len, out);
    using T = std::variant_alternative_t<I, StoreRecord>;
    if (len != 1 + sizeof(T)) return false;
    T value;
    std::memcpy(&value, payload + 1, sizeof(T));
    out.emplace<I>(value);
    return true;
  }
}

std::string errno_text(int err) { return std::system_category().message(err); }

bool fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

bool write_all(int fd, const unsigned char* data, std::size_t len, std::uint64_t offset) {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    len -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

std::string segment_name(std::uint64_t first_seq) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020llu.tbj", static_cast<unsigned long long>(first_seq));
  return name;
}

// Reads frames of one segment file through a reusable buffer.
class FrameReader {
 public:
  FrameReader(int fd, std::uint64_t file_size, std::vector<unsigned char>& buffer)
      : fd_(fd), file_size_(file_size), buffer_(buffer) {}

  enum class Status { Ok, End, Bad, IoError };

  // Decodes the frame at `offset`; on Ok sets seq, record and next_offset; on Bad, why.
  Status next(std::uint64_t offset, std::uint64_t& seq, StoreRecord& record, std::uint64_t& next_offset,
              std::string& why) {
    if (offset == file_size_) return Status::End;
    if (file_size_ - offset < kFrameHeaderSize) {
      why = "incomplete frame header";
      return Status::Bad;
    }
    const unsigned char* head = load(offset, kFrameHeaderSize);
    if (head == nullptr) return Status::IoError;
    const auto len = get<std::uint32_t>(head);
    const auto crc = get<std::uint32_t>(head + 4);
    seq = get<std::uint64_t>(head + 8);
    if (len < 2 || len > kMaxPayload) {
      why = "bad frame length " + std::to_string(len);
      return Status::Bad;
    }
    if (file_size_ - offset - kFrameHeaderSize < len) {
      why = "truncated record (" + std::to_string(file_size_ - offset - kFrameHeaderSize) + " of " +
            std::to_string(len) + " payload bytes)";
      return Status::Bad;
    }
    const unsigned char* frame = load(offset, kFrameHeaderSize + len);
    if (frame == nullptr) return Status::IoError;
    const unsigned char* payload = frame + kFrameHeaderSize;
    if (crc_of(seq, payload, len) != crc) {
      why = "checksum mismatch";
      return Status::Bad;
    }
    if (!decode_payload(payload, len, record)) {
      why = "unknown record kind " + std::to_string(payload[0]);
      return Status::Bad;
    }
    next_offset = offset + kFrameHeaderSize + len;
    return Status::Ok;
  }

 private:
  const unsigned char* load(std::uint64_t offset, std::size_t len) {
    if (offset < start_ || offset + len > start_ + filled_) {
      buffer_.resize(std::max(kReadChunk, len));
      std::size_t got = 0;
      while (got < len) {
        const ssize_t n = ::pread(fd_, buffer_.data() + got, buffer_.size() - got, static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return nullptr;
        got += static_cast<std::size_t>(n);
      }
      start_ = offset;
      filled_ = got;
    }
    return buffer_.data() + (offset - start_);
  }

  int fd_;
  std::uint64_t file_size_;
  std::vector<unsigned char>& buffer_;
  std::uint64_t start_ = 0;
  std::size_t filled_ = 0;
};

std::string random_id() {
  std::random_device rd;
  std::string id;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) id += kHex[rd() & 15U];
  return id;
}

bool write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  const bool ok = write_all(fd, reinterpret_cast<const unsigned char*>(text.data()), text.size(), 0) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return false;
  return fsync_dir(path.parent_path());
}

std::string checkpoint_text(const std::string& id, std::uint64_t seq) {
  std::string body = "TBJCKPT1 " + id + " " + std::to_string(seq);
  char crc[16];
  std::snprintf(crc, sizeof(crc), " %08x\n",
                static_cast<unsigned>(crc32(0L, reinterpret_cast<const Bytef*>(body.data()),
                                            static_cast<uInt>(body.size()))));
  return body + crc;
}

}  // namespace

std::uint32_t Journal::layout_fingerprint() noexcept {
  // FNV-1a over the format version and every record's size and alignment.
  std::uint32_t h = 2166136261u;
  auto mix = [&h](std::size_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= static_cast<std::uint32_t>((v >> (8 * i)) & 0xffU);
      h *= 16777619u;
    }
  };
  mix(kFormatVersion);
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (mix(sizeof(std::variant_alternative_t<I, StoreRecord>)), ...);
    (mix(alignof(std::variant_alternative_t<I, StoreRecord>)), ...);
  }(std::make_index_sequence<kRecordKinds>{});
  return h;
}

Journal::Journal(JournalOptions options) : options_(std::move(options)) {}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

bool Journal::fail(std::string message) {
  error_ = std::move(message);
  return false;
}

std::uint64_t Journal::first_seq() const noexcept {
  for (const auto& s : segments_) {
    if (s.last_seq != 0) return s.first_seq;
  }
  return 0;
}

std::uint64_t Journal::size_bytes() const noexcept {
  std::uint64_t total = 0;
  for (const auto& s : segments_) total += s.size;
  return total;
}

Result<std::unique_ptr<Journal>> Journal::open(const JournalOptions& options) {
  std::unique_ptr<Journal> j(new Journal(options));
  const auto& dir = options.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"journal: cannot create " + dir.string() + ": " + ec.message()};

  // Identity.
  const auto id_path = dir / "journal.id";
  {
    std::ifstream in(id_path);
    std::getline(in, j->id_);
  }
  if (j->id_.size() != 32) {
    j->id_ = random_id();
    if (!write_file_atomically(id_path, j->id_ + "\n")) {
      return Error{"journal: cannot write " + id_path.string() + ": " + errno_text(errno)};
    }
  }

  // Checkpoint (a bad one only costs pruning: the database keeps its own progress).
  {
    std::ifstream in(dir / "checkpoint");
    std::string line;
    if (in && std::getline(in, line)) {
      std::istringstream words(line);
      std::string magic, id, seq_text, crc_text;
      words >> magic >> id >> seq_text >> crc_text;
      std::uint64_t seq = 0;
      const auto parsed = std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
      if (parsed.ec == std::errc() && checkpoint_text(id, seq) == line + "\n" && id == j->id_) {
        j->checkpoint_ = seq;
      } else {
        j->report_.repairs.push_back("ignored an invalid checkpoint file (" + line.substr(0, 80) + ")");
      }
    }
  }

  // Segments, in sequence order.
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name.size() != 24 || name.substr(20) != ".tbj") continue;
    Segment s;
    s.path = entry.path();
    s.size = entry.file_size();
    j->segments_.push_back(std::move(s));
  }
  if (ec) return Error{"journal: cannot list " + dir.string() + ": " + ec.message()};
  std::sort(j->segments_.begin(), j->segments_.end(),
            [](const Segment& a, const Segment& b) { return a.path.filename() < b.path.filename(); });

  std::uint64_t expected = 0;
  for (std::size_t i = 0; i < j->segments_.size();) {
    const bool is_last = i + 1 == j->segments_.size();
    if (!j->scan_segment(j->segments_[i], is_last, expected)) {
      if (!j->error_.empty()) return Error{j->error_};
      // Unusable (headerless) segment removed.
      j->segments_.erase(j->segments_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    ++i;
  }
  for (const auto& s : j->segments_) {
    j->last_seq_ = std::max({j->last_seq_, s.last_seq, s.first_seq > 0 ? s.first_seq - 1 : 0});
  }
  // Never reuse a sequence the database may already hold.
  j->last_seq_ = std::max(j->last_seq_, j->checkpoint_);
  // Appends go to the last segment only if it ends exactly at last_seq_ (else the next record
  // would not follow its predecessor in that file); an empty mismatching one is replaced.
  bool reuse_last = false;
  if (!j->segments_.empty()) {
    const auto& last = j->segments_.back();
    const std::uint64_t ends_at = last.last_seq != 0 ? last.last_seq : last.first_seq - 1;
    reuse_last = ends_at == j->last_seq_;
    if (!reuse_last && last.last_seq == 0) {
      std::filesystem::remove(last.path, ec);
      j->segments_.pop_back();
    }
  }
  if (reuse_last) {
    auto& last = j->segments_.back();
    j->fd_ = ::open(last.path.c_str(), O_RDWR | O_CLOEXEC);
    if (j->fd_ < 0) return Error{"journal: cannot open " + last.path.string() + ": " + errno_text(errno)};
  } else if (!j->start_segment(j->last_seq_ + 1)) {
    return Error{j->error_};
  }
  j->report_.first_seq = j->first_seq();
  j->report_.last_seq = j->last_seq_;
  j->report_.checkpoint = j->checkpoint_;
  for (const auto& line : j->report_.repairs) spdlog::warn("store journal {}: {}", dir.string(), line);
  return j;
}

// Validates the header and every frame; cuts the file at the first bad frame. Returns false
// with error_ set on a fatal problem, or false with error_ empty when the file must be dropped.
bool Journal::scan_segment(Segment& segment, bool is_last, std::uint64_t& expected_seq) {
  const auto path = segment.path.string();
  if (segment.size < kHeaderSize) {
    // Created but its header never became durable: nothing in it can be a record.
    report_.repairs.push_back("removed " + path + ": " + std::to_string(segment.size) +
                              " bytes, shorter than a segment header" + (is_last ? "" : " (not the last segment)"));
    report_.truncated_bytes += segment.size;
    std::filesystem::remove(segment.path);
    return false;
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail("journal: cannot open " + path + ": " + errno_text(errno));
  unsigned char header[kHeaderSize];
  if (::pread(fd, header, kHeaderSize, 0) != static_cast<ssize_t>(kHeaderSize)) {
    ::close(fd);
    return fail("journal: cannot read " + path + ": " + errno_text(errno));
  }
  if (std::memcmp(header, kMagic.data(), kMagic.size()) != 0) {
    ::close(fd);
    return fail("journal: " + path + " is not a tradingbot journal segment (bad magic)");
  }
  const auto version = get<std::uint32_t>(header + 8);
  const auto fingerprint = get<std::uint32_t>(header + 12);
  segment.first_seq = get<std::uint64_t>(header + 16);
  const auto header_crc = get<std::uint32_t>(header + 24);
  if (header_crc != static_cast<std::uint32_t>(crc32(0L, header, 24))) {
    ::close(fd);
    return fail("journal: " + path + ": segment header checksum mismatch");
  }
  if (version != kFormatVersion || fingerprint != layout_fingerprint()) {
    ::close(fd);
    return fail("journal: " + path + " was written with another record layout (format " + std::to_string(version) +
                ", layout " + std::to_string(fingerprint) + "; this binary: format " +
                std::to_string(kFormatVersion) + ", layout " + std::to_string(layout_fingerprint()) +
                "): drain it into the database with the binary that wrote it, then move it away");
  }
  if (expected_seq != 0 && segment.first_seq != expected_seq) {
    report_.repairs.push_back("sequence gap before " + path + ": expected " + std::to_string(expected_seq) +
                              ", segment starts at " + std::to_string(segment.first_seq));
  }
  expected_seq = segment.first_seq;

  FrameReader reader(fd, segment.size, read_buffer_);
  std::uint64_t offset = kHeaderSize;
  std::uint64_t seq = 0;
  StoreRecord record;
  std::string why;
  for (;;) {
    std::uint64_t next = 0;
    const auto status = reader.next(offset, seq, record, next, why);
    if (status == FrameReader::Status::End) break;
    if (status == FrameReader::Status::IoError) {
      ::close(fd);
      return fail("journal: read error in " + path + ": " + errno_text(errno));
    }
    if (status == FrameReader::Status::Ok && seq != expected_seq) {
      why = "sequence " + std::to_string(seq) + " where " + std::to_string(expected_seq) + " was expected";
    } else if (status == FrameReader::Status::Ok) {
      segment.last_seq = seq;
      ++report_.records;
      ++expected_seq;
      offset = next;
      continue;
    }
    // Bad frame: keep everything before it.
    const std::uint64_t cut = segment.size - offset;
    if (::ftruncate(fd, static_cast<off_t>(offset)) != 0 || ::fsync(fd) != 0) {
      ::close(fd);
      return fail("journal: cannot truncate " + path + ": " + errno_text(errno));
    }
    report_.truncated_bytes += cut;
    report_.repairs.push_back(
        std::string(is_last ? "torn tail" : "corrupt record inside a closed segment") + " in " + path + " at offset " +
        std::to_string(offset) + ": " + why + "; cut " + std::to_string(cut) + " bytes, kept records " +
        (segment.last_seq == 0 ? std::string("none") : std::to_string(segment.first_seq) + ".." +
                                                           std::to_string(segment.last_seq)) +
        " of this segment");
    segment.size = offset;
    break;
  }
  ::close(fd);
  return true;
}

bool Journal::start_segment(std::uint64_t first_seq) {
  Segment s;
  s.first_seq = first_seq;
  s.path = options_.dir / segment_name(first_seq);
  const int fd = ::open(s.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return fail("journal: cannot create " + s.path.string() + ": " + errno_text(errno));
  unsigned char header[kHeaderSize] = {};
  std::memcpy(header, kMagic.data(), kMagic.size());
  put(header + 8, kFormatVersion);
  put(header + 12, layout_fingerprint());
  put(header + 16, first_seq);
  put(header + 24, static_cast<std::uint32_t>(crc32(0L, header, 24)));
  if (!write_all(fd, header, kHeaderSize, 0) || ::fdatasync(fd) != 0 || !fsync_dir(options_.dir)) {
    const int err = errno;
    ::close(fd);
    ::unlink(s.path.c_str());
    return fail("journal: cannot initialise " + s.path.string() + ": " + errno_text(err));
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  s.size = kHeaderSize;
  segments_.push_back(std::move(s));
  return true;
}

bool Journal::append(SequencedRecord* records, std::size_t count) {
  if (count == 0) return true;
  auto& active = segments_.back();
  if (active.size >= options_.segment_bytes && active.last_seq != 0) {
    if (!start_segment(last_seq_ + 1)) return false;
  }
  auto& segment = segments_.back();
  write_buffer_.clear();
  for (std::size_t i = 0; i < count; ++i) {
    records[i].seq = last_seq_ + 1 + i;
    encode_frame(records[i], write_buffer_);
  }
  if (!write_all(fd_, write_buffer_.data(), write_buffer_.size(), segment.size) || ::fdatasync(fd_) != 0) {
    const int err = errno;
    // Leave no partial batch behind: a later batch must not follow a torn frame.
    if (::ftruncate(fd_, static_cast<off_t>(segment.size)) != 0) {
      spdlog::error("store journal: cannot cut back {} after a failed write", segment.path.string());
    }
    return fail("journal: write to " + segment.path.string() + " failed: " + errno_text(err));
  }
  segment.size += write_buffer_.size();
  last_seq_ += count;
  segment.last_seq = last_seq_;
  return true;
}

bool Journal::read(std::uint64_t from, std::size_t max, std::vector<SequencedRecord>& out) {
  out.clear();
  if (segments_.empty() || max == 0) return true;
  std::size_t seg = 0;
  std::uint64_t offset = kHeaderSize;
  if (cursor_.next_seq != 0 && cursor_.next_seq == from && cursor_.segment < segments_.size()) {
    seg = cursor_.segment;
    offset = cursor_.offset;
  } else {
    for (std::size_t i = 0; i < segments_.size(); ++i) {
      if (segments_[i].first_seq <= from) seg = i;
    }
  }
  std::string why;
  for (; seg < segments_.size() && out.size() < max; ++seg, offset = kHeaderSize) {
    const auto& segment = segments_[seg];
    if (segment.last_seq != 0 && segment.last_seq < from) continue;
    const int fd = ::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("journal: cannot open " + segment.path.string() + ": " + errno_text(errno));
    FrameReader reader(fd, segment.size, read_buffer_);
    SequencedRecord rec;
    while (out.size() < max) {
      std::uint64_t next = 0;
      const auto status = reader.next(offset, rec.seq, rec.record, next, why);
      if (status == FrameReader::Status::End) break;
      if (status != FrameReader::Status::Ok) {
        ::close(fd);
        cursor_ = {};
        return fail("journal: cannot read " + segment.path.string() + " at offset " + std::to_string(offset) + ": " +
                    (status == FrameReader::Status::Bad ? why : errno_text(errno)));
      }
      offset = next;
      if (rec.seq >= from) out.push_back(rec);
    }
    ::close(fd);
    if (out.size() >= max) {
      cursor_ = {seg, offset, out.back().seq + 1};
      return true;
    }
  }
  cursor_ = out.empty() ? Cursor{} : Cursor{segments_.size() - 1, segments_.back().size, out.back().seq + 1};
  return true;
}

bool Journal::advance_to(std::uint64_t seq) {
  if (seq <= last_seq_) return true;
  last_seq_ = seq;
  if (!segments_.empty() && segments_.back().last_seq == 0) {
    std::error_code ec;
    std::filesystem::remove(segments_.back().path, ec);
    segments_.pop_back();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  cursor_ = {};
  return start_segment(seq + 1);
}

bool Journal::write_checkpoint(std::uint64_t seq) {
  if (!write_file_atomically(options_.dir / "checkpoint", checkpoint_text(id_, seq))) {
    return fail("journal: cannot write checkpoint in " + options_.dir.string() + ": " + errno_text(errno));
  }
  checkpoint_ = seq;
  return true;
}

std::size_t Journal::prune_through(std::uint64_t seq) {
  std::size_t removed = 0;
  while (segments_.size() > 1) {
    const auto& s = segments_.front();
    const std::uint64_t last = s.last_seq != 0 ? s.last_seq : s.first_seq - 1;
    if (last > seq) break;
    std::error_code ec;
    std::filesystem::remove(s.path, ec);
    if (ec) {
      spdlog::warn("store journal: cannot remove {}: {}", s.path.string(), ec.message());
      break;
    }
    segments_.erase(segments_.begin());
    ++removed;
  }
  if (removed != 0) {
    cursor_ = {};
    fsync_dir(options_.dir);
  }
  return removed;
}

}  // namespace tb::store

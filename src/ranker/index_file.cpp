// ItemIndex::save / load: one versioned, checksummed file, written atomically and read mapped.
//
// Layout (native little-endian x86-64): a 64-byte header, then sections each starting on a
// 64-byte boundary: ids (int64), vectors (dim values of the storage type per row), scales (float
// per row, Int8 only), priors (float per row; since version 2), available (uint8 per row),
// category offsets (uint64, rows + 1), categories (uint32). The checksum covers every byte after
// the header. Version 1 files (no priors section) are still read, with every prior 0.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_set>

#include "common/atomic_file.hpp"
#include "common/vector_dim.hpp"
#include "nowrec/error.hpp"
#include "nowrec/item_index.hpp"
#include "ranker/item_index_writer.hpp"
#include "ranker/snapshot.hpp"

namespace nowrec {
namespace {

constexpr std::array<char, 8> kMagic = {'N', 'O', 'W', 'R', 'I', 'D', 'X', '\0'};
constexpr std::uint32_t kVersion = 2;
constexpr std::uint32_t kOldestVersion = 1;
constexpr std::size_t kAlign = 64;

struct FileHeader {
  std::array<char, 8> magic;
  std::uint32_t version;
  std::uint32_t storage;
  std::uint64_t dim;
  std::uint64_t rows;
  std::uint64_t category_count;
  std::uint64_t checksum;
  std::uint64_t reserved[2];
};
static_assert(sizeof(FileHeader) == kAlign);

std::uint64_t align_up(std::uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Where each section starts, from the header's counts; false when the sizes overflow.
struct Layout {
  std::uint64_t ids, vectors, scales, priors, available, category_offsets, categories, end;
};

bool overflows_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return __builtin_mul_overflow(a, b, &out);
}

bool compute_layout(const FileHeader& h, Layout& layout) {
  std::uint64_t vector_bytes, row_values;
  if (overflows_mul(h.rows, h.dim, row_values) ||
      overflows_mul(row_values, ranker::bytes_per_value(StorageType(h.storage)), vector_bytes) ||
      h.rows > (std::uint64_t(1) << 40) || h.category_count > (std::uint64_t(1) << 40)) {
    return false;
  }
  const bool int8 = StorageType(h.storage) == StorageType::Int8;
  layout.ids = sizeof(FileHeader);
  layout.vectors = align_up(layout.ids + h.rows * 8);
  if (vector_bytes > (std::uint64_t(1) << 50)) return false;
  const bool has_priors = h.version >= 2;
  layout.scales = align_up(layout.vectors + vector_bytes);
  layout.priors = align_up(layout.scales + (int8 ? h.rows * 4 : 0));
  layout.available = align_up(layout.priors + (has_priors ? h.rows * 4 : 0));
  layout.category_offsets = align_up(layout.available + h.rows);
  layout.categories = align_up(layout.category_offsets + (h.rows + 1) * 8);
  layout.end = layout.categories + h.category_count * 4;
  return true;
}

// A 64-bit hash over 32-byte blocks in four independent lanes (fast enough to check a 1.5 GB
// file at load), fed in pieces of any length.
class Checksum {
 public:
  void update(const void* data, std::size_t n) {
    if (n == 0) return;  // data may be null then, which memcpy does not allow
    const auto* bytes = static_cast<const unsigned char*>(data);
    total_ += n;
    if (pending_ > 0) {
      const std::size_t take = std::min(n, sizeof buffer_ - pending_);
      std::memcpy(buffer_ + pending_, bytes, take);
      pending_ += take;
      bytes += take;
      n -= take;
      if (pending_ < sizeof buffer_) return;
      block(buffer_);
      pending_ = 0;
    }
    for (; n >= sizeof buffer_; n -= sizeof buffer_, bytes += sizeof buffer_) block(bytes);
    std::memcpy(buffer_, bytes, n);
    pending_ = n;
  }
  std::uint64_t finish() {
    std::memset(buffer_ + pending_, 0, sizeof buffer_ - pending_);
    block(buffer_);
    std::uint64_t h = total_ * kPrime;
    for (std::uint64_t lane : lanes_) h = mix(h ^ lane);
    return h;
  }

 private:
  static constexpr std::uint64_t kPrime = 0x9E3779B97F4A7C15ull;
  static std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return x;
  }
  void block(const unsigned char* p) {
    for (int lane = 0; lane < 4; ++lane) {
      std::uint64_t word;
      std::memcpy(&word, p + 8 * lane, 8);
      lanes_[lane] = (lanes_[lane] ^ word) * kPrime;
      lanes_[lane] ^= lanes_[lane] >> 29;
    }
  }
  std::uint64_t lanes_[4] = {1, 2, 3, 4};
  unsigned char buffer_[32] = {};
  std::size_t pending_ = 0;
  std::uint64_t total_ = 0;
};

// Reads errno first: call it right after the failed call, before anything that may change it.
Error io_error(const std::filesystem::path& path, const char* what, int error = errno) {
  const std::string reason = std::strerror(error);
  return Error(ErrorCode::Io, path.string() + ": " + what + ": " + reason);
}

// How every InvalidFormat message about an index file begins.
std::string format_prefix(const std::filesystem::path& path) {
  return path.string() + ": not a valid nowrec index: ";
}

Error format_error(const std::filesystem::path& path, const std::string& what) {
  return Error(ErrorCode::InvalidFormat, format_prefix(path) + what);
}

// Buffers the file's sections into an AtomicFileWriter, checksumming them on the way.
class FileWriter {
 public:
  explicit FileWriter(common::AtomicFileWriter& file) : file_(file) {}
  void write(const void* data, std::size_t n, bool hashed = true) {
    if (hashed) checksum_.update(data, n);
    offset_ += n;
    const std::size_t used = buffer_.size();
    buffer_.resize(used + n);
    if (n > 0) std::memcpy(buffer_.data() + used, data, n);
    if (buffer_.size() >= (1u << 20)) flush();
  }
  void pad_to(std::uint64_t offset) {
    static const char zeros[kAlign] = {};
    while (offset_ < offset) write(zeros, std::min<std::uint64_t>(kAlign, offset - offset_));
  }
  void flush() {
    file_.write(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
  std::uint64_t checksum() { return checksum_.finish(); }

 private:
  common::AtomicFileWriter& file_;
  std::vector<char> buffer_;
  Checksum checksum_;
  std::uint64_t offset_ = 0;
};

// True when one of n stored values of `Word` has every exponent bit (`exponent`) set: an
// infinity or a NaN. No early exit, so that the loop vectorises: it runs over every vector of a
// file as it loads. An OR of equality tests, which SSE2 has (an unsigned minimum it lacks, and
// emulating one made the check cost as much as the checksum).
template <class Word>
bool any_non_finite(const std::byte* values, std::size_t n, Word exponent) {
  Word found = 0;
  for (std::size_t j = 0; j < n; ++j) {
    Word bits;
    std::memcpy(&bits, values + j * sizeof(Word), sizeof(Word));
    found |= static_cast<Word>((bits & exponent) == exponent);
  }
  return found != 0;
}

// The position of the first value of a stored row that is infinite or NaN, or `dim` when there
// is none. Int8 values are always finite; their scales are checked apart.
std::size_t first_non_finite(StorageType storage, const std::byte* row, std::size_t dim) {
  const auto find = [&]<class Word>(Word exponent) {
    if (!any_non_finite<Word>(row, dim, exponent)) return dim;
    std::size_t j = 0;
    while (!any_non_finite<Word>(row + j * sizeof(Word), 1, exponent)) ++j;
    return j;
  };
  if (storage == StorageType::F32) return find(std::uint32_t{0x7F800000u});
  if (storage == StorageType::BF16) return find(std::uint16_t{0x7F80u});
  return dim;
}

// True when one of n int8 scales is infinite, NaN or negative. No early exit, as above: above
// the largest finite float's bits lie the infinities, the NaNs and every value with its sign bit
// set, of which only -0 is a valid scale.
bool any_bad_scale(const std::byte* scales, std::size_t n) {
  std::uint32_t bad = 0;
  for (std::size_t j = 0; j < n; ++j) {
    std::uint32_t bits;
    std::memcpy(&bits, scales + j * sizeof(bits), sizeof(bits));
    bad |= static_cast<std::uint32_t>(bits > 0x7F7FFFFFu && bits != 0x80000000u);
  }
  return bad != 0;
}

// The bytes checksummed, then checked, per step of a load's one pass over a file: few enough
// that the check reads them from the cache the checksum just filled.
constexpr std::size_t kLoadChunkBytes = std::size_t(64) << 10;

// Checksums every byte after the header and, chunk by chunk in the same pass, looks for a vector
// value that is infinite or NaN or an int8 scale that is not finite or is negative, so a file's
// bytes are read from memory once. Returns true when it found one: which row is at fault is left
// to the per-row checks, which run only then.
bool checksum_and_check_values(const std::byte* base, std::uint64_t size, const FileHeader& h,
                               const Layout& layout, Checksum& checksum) {
  const auto storage = StorageType(h.storage);
  const std::uint64_t vectors_end =
      layout.vectors + h.rows * h.dim * ranker::bytes_per_value(storage);
  const std::uint64_t scales_end =
      layout.scales + (storage == StorageType::Int8 ? h.rows * sizeof(float) : 0);
  bool suspect = false;
  // Chunks start at 64-byte offsets, as sections do, so a chunk's part of a section starts and
  // ends on whole values.
  for (std::uint64_t at = sizeof(FileHeader); at < size; at += kLoadChunkBytes) {
    const std::uint64_t end = std::min<std::uint64_t>(size, at + kLoadChunkBytes);
    checksum.update(base + at, end - at);
    const std::uint64_t vectors_from = std::max(at, layout.vectors);
    const std::uint64_t vectors_to = std::min(end, vectors_end);
    if (vectors_from < vectors_to) {
      const std::byte* values = base + vectors_from;
      const std::uint64_t bytes = vectors_to - vectors_from;
      if (storage == StorageType::F32) {
        suspect |= any_non_finite<std::uint32_t>(values, bytes / 4, 0x7F800000u);
      } else if (storage == StorageType::BF16) {
        suspect |= any_non_finite<std::uint16_t>(values, bytes / 2, 0x7F80u);
      }
    }
    const std::uint64_t scales_from = std::max(at, layout.scales);
    const std::uint64_t scales_to = std::min(end, scales_end);
    if (scales_from < scales_to) {
      suspect |= any_bad_scale(base + scales_from, (scales_to - scales_from) / sizeof(float));
    }
  }
  return suspect;
}

// Closes a descriptor and, unless released, removes the temporary file it was writing.
struct Mapping {
  void* data = MAP_FAILED;
  std::size_t size = 0;
  ~Mapping() {
    if (data != MAP_FAILED) ::munmap(data, size);
  }
};

}  // namespace

void ItemIndex::save(const std::filesystem::path& path) const {
  const auto snap = snapshot();
  const std::size_t row_bytes = dim_ * ranker::bytes_per_value(snap->storage);
  FileHeader header{};
  header.magic = kMagic;
  header.version = kVersion;
  header.storage = std::uint32_t(snap->storage);
  header.dim = dim_;
  header.rows = snap->size;
  for (const auto& segment : snap->segments) {
    header.category_count +=
        segment->category_offsets[segment->rows] - segment->category_offsets[0];
  }
  Layout layout;
  compute_layout(header, layout);

  common::AtomicFileWriter file(path);
  FileWriter out(file);
  out.write(&header, sizeof header, false);
  for (const auto& s : snap->segments) out.write(s->ids, s->rows * 8);
  out.pad_to(layout.vectors);
  for (const auto& s : snap->segments) out.write(s->vectors, s->rows * row_bytes);
  out.pad_to(layout.scales);
  if (snap->storage == StorageType::Int8) {
    for (const auto& s : snap->segments) out.write(s->scales, s->rows * 4);
  }
  out.pad_to(layout.priors);
  for (const auto& s : snap->segments) {
    if (s->priors != nullptr) {
      out.write(s->priors, s->rows * 4);
    } else {
      const std::vector<float> zeros(s->rows, 0.0f);
      out.write(zeros.data(), s->rows * 4);
    }
  }
  out.pad_to(layout.available);
  for (const auto& s : snap->segments) out.write(s->available, s->rows);
  out.pad_to(layout.category_offsets);
  std::uint64_t offset = 0;
  out.write(&offset, 8);
  for (const auto& s : snap->segments) {
    for (std::size_t row = 0; row < s->rows; ++row) {
      offset += s->category_offsets[row + 1] - s->category_offsets[row];
      out.write(&offset, 8);
    }
  }
  out.pad_to(layout.categories);
  for (const auto& s : snap->segments) {
    const std::uint64_t first = s->category_offsets[0];
    out.write(s->categories + first, (s->category_offsets[s->rows] - first) * 4);
  }
  out.flush();
  header.checksum = out.checksum();
  file.write_at(0, &header, sizeof header);
  file.commit();
}

ItemIndex ItemIndex::load(const std::filesystem::path& path) {
  auto mapping = std::make_shared<Mapping>();
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw io_error(path, "cannot open");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int error = errno;
      ::close(fd);
      throw io_error(path, "cannot stat", error);
    }
    mapping->size = std::size_t(st.st_size);
    if (mapping->size < sizeof(FileHeader)) {
      ::close(fd);
      throw format_error(path, "file of " + std::to_string(mapping->size) +
                                   " bytes is shorter than the 64-byte header");
    }
    mapping->data = ::mmap(nullptr, mapping->size, PROT_READ, MAP_SHARED, fd, 0);
    const int error = errno;
    ::close(fd);
    if (mapping->data == MAP_FAILED) throw io_error(path, "cannot map", error);
  }
  const auto* base = static_cast<const std::byte*>(mapping->data);
  FileHeader h;
  std::memcpy(&h, base, sizeof h);
  if (h.magic != kMagic) throw format_error(path, "bad magic (not an index file)");
  if (h.version < kOldestVersion || h.version > kVersion) {
    throw format_error(path, "version " + std::to_string(h.version) + " (this build reads " +
                                 std::to_string(kOldestVersion) + " to " +
                                 std::to_string(kVersion) + ")");
  }
  if (h.storage > std::uint32_t(StorageType::Int8)) {
    throw format_error(path, "field 'storage' = " + std::to_string(h.storage) + " is unknown");
  }
  common::check_vector_dim(h.dim, format_prefix(path) + "field 'dim'", ErrorCode::InvalidFormat);
  Layout layout;
  if (!compute_layout(h, layout)) throw format_error(path, "row and category counts overflow");
  if (layout.end != mapping->size) {
    throw format_error(path, "size " + std::to_string(mapping->size) + " bytes, but the header (" +
                                 std::to_string(h.rows) + " rows, dim " + std::to_string(h.dim) +
                                 ") needs " + std::to_string(layout.end));
  }
  Checksum checksum;
  const bool suspect_values = checksum_and_check_values(base, mapping->size, h, layout, checksum);
  if (checksum.finish() != h.checksum) throw format_error(path, "checksum mismatch (corrupt)");
  ::madvise(mapping->data, mapping->size, MADV_WILLNEED);

  const auto* ids = reinterpret_cast<const std::int64_t*>(base + layout.ids);
  const auto* offsets = reinterpret_cast<const std::uint64_t*>(base + layout.category_offsets);
  const auto* available = reinterpret_cast<const std::uint8_t*>(base + layout.available);
  if (offsets[0] != 0 || offsets[h.rows] != h.category_count) {
    throw format_error(path, "category offsets do not span the category list");
  }
  const float* priors =
      h.version >= 2 ? reinterpret_cast<const float*>(base + layout.priors) : nullptr;
  const auto storage = StorageType(h.storage);
  const std::size_t row_bytes = h.dim * ranker::bytes_per_value(storage);
  const float* scales =
      storage == StorageType::Int8 ? reinterpret_cast<const float*>(base + layout.scales) : nullptr;
  for (std::uint64_t row = 0; row < h.rows; ++row) {
    // Scores of a row with an infinite or NaN value, or scale, would be NaN or infinite. The
    // values were checked with the checksum; rows are looked at only to name the one at fault.
    if (suspect_values) {
      const std::size_t bad =
          first_non_finite(storage, base + layout.vectors + row * row_bytes, h.dim);
      if (bad != h.dim) {
        throw format_error(path, "the vector of row " + std::to_string(row) +
                                     " is not finite at position " + std::to_string(bad));
      }
      if (scales != nullptr && !(std::isfinite(scales[row]) && scales[row] >= 0.0f)) {
        throw format_error(path, "the int8 scale of row " + std::to_string(row) + " is " +
                                     (std::isfinite(scales[row]) ? "negative" : "not finite"));
      }
    }
    if (priors != nullptr && !std::isfinite(priors[row])) {
      throw format_error(path, "the prior of row " + std::to_string(row) + " is not finite");
    }
    if (offsets[row + 1] < offsets[row]) {
      throw format_error(path, "category offsets decrease at row " + std::to_string(row));
    }
    if (available[row] > 1) {
      throw format_error(path, "available flag of row " + std::to_string(row) + " is not 0 or 1");
    }
  }

  ItemIndex index(h.dim, {.storage = storage});
  auto snap = std::make_shared<ranker::Snapshot>();
  snap->dim = h.dim;
  snap->storage = storage;
  snap->size = h.rows;
  auto& place_of = index.writer_->place_of;
  place_of.reserve(h.rows);
  for (std::uint64_t first = 0; first < h.rows; first += ranker::kSegmentRows) {
    auto segment = std::make_shared<ranker::Segment>();
    segment->rows = std::min<std::uint64_t>(ranker::kSegmentRows, h.rows - first);
    segment->ids = ids + first;
    segment->vectors = base + layout.vectors + first * row_bytes;
    segment->scales = snap->storage == StorageType::Int8
                          ? reinterpret_cast<const float*>(base + layout.scales) + first
                          : nullptr;
    // A segment whose priors are all 0 gets none, so scans skip them (see Segment::priors).
    if (priors != nullptr && std::any_of(priors + first, priors + first + segment->rows,
                                         [](float x) { return x != 0.0f; })) {
      segment->priors = priors + first;
    }
    segment->available = available + first;
    segment->category_offsets = offsets + first;
    segment->categories = reinterpret_cast<const std::uint32_t*>(base + layout.categories);
    segment->owner = mapping;
    const auto segment_index = std::uint32_t(snap->segments.size());
    for (std::size_t row = 0; row < segment->rows; ++row) {
      const RowPlace place{segment_index, static_cast<std::uint32_t>(row)};
      if (!place_of.emplace(segment->ids[row], place).second) {
        throw format_error(path, "item id " + std::to_string(segment->ids[row]) + " appears twice");
      }
    }
    snap->segments.push_back(std::move(segment));
  }
  index.writer_->current = std::move(snap);
  return index;
}

}  // namespace nowrec

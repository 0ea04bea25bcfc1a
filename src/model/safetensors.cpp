// safetensors reader: maps the file, validates it as the reference implementation does, and
// hands out zero-copy views of each tensor.
#include "nowrec/safetensors.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "model/shape_text.hpp"

namespace nowrec {

using model::shape_text;

namespace {

// The reference implementation refuses larger headers, so a file that passes there passes here.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr std::string_view kMetadataKey = "__metadata__";

struct DtypeInfo {
  TensorDtype dtype;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<DtypeInfo, 15> kDtypes{{
    {TensorDtype::BOOL, "BOOL", 1},
    {TensorDtype::U8, "U8", 1},
    {TensorDtype::I8, "I8", 1},
    {TensorDtype::F8_E4M3, "F8_E4M3", 1},
    {TensorDtype::F8_E5M2, "F8_E5M2", 1},
    {TensorDtype::I16, "I16", 2},
    {TensorDtype::U16, "U16", 2},
    {TensorDtype::F16, "F16", 2},
    {TensorDtype::BF16, "BF16", 2},
    {TensorDtype::I32, "I32", 4},
    {TensorDtype::U32, "U32", 4},
    {TensorDtype::F32, "F32", 4},
    {TensorDtype::F64, "F64", 8},
    {TensorDtype::I64, "I64", 8},
    {TensorDtype::U64, "U64", 8},
}};

std::optional<TensorDtype> dtype_from_name(std::string_view name) {
  for (const DtypeInfo& info : kDtypes) {
    if (info.name == name) return info.dtype;
  }
  return std::nullopt;
}

// One header entry before its offsets are checked against its neighbours.
struct Entry {
  std::string name;
  TensorDtype dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin;
  std::uint64_t end;
};

// A short description of a rejected value: scalars and the first level of an array.
// dump() would recurse through a deeply nested array and could exhaust the stack.
std::string describe_scalar(const nlohmann::json& value) {
  if (value.is_array()) return "[...]";
  if (value.is_object()) return "{...}";
  if (value.is_string() && value.get_ref<const std::string&>().size() > 32) return "\"...\"";
  return value.dump();
}

std::string describe(const nlohmann::json& value) {
  if (!value.is_array()) return describe_scalar(value);
  constexpr std::size_t kShown = 4;
  std::string text = "[";
  for (std::size_t i = 0; i < value.size() && i < kShown; ++i) {
    if (i > 0) text += ", ";
    text += describe_scalar(value[i]);
  }
  if (value.size() > kShown) text += ", ...";
  return text + "]";
}

std::string offsets_text(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

class HeaderValidator {
 public:
  explicit HeaderValidator(std::string label) : label_(std::move(label)) {}

  [[noreturn]] void fail(const std::string& rule) const {
    throw Error(ErrorCode::InvalidFormat, label_ + ": " + rule);
  }
  [[noreturn]] void fail_tensor(std::string_view tensor, const std::string& rule) const {
    fail("tensor '" + std::string(tensor) + "': " + rule);
  }

  // nlohmann::json keeps the last of duplicate keys, which would let two readers of one file
  // disagree on its contents; the callback sees every key and refuses repeats.
  nlohmann::json parse(std::string_view header) {
    std::vector<std::set<std::string>> open_objects;
    std::string current_entry;
    auto on_event = [&](int /*depth*/, nlohmann::json::parse_event_t event,
                        nlohmann::json& parsed) {
      using Event = nlohmann::json::parse_event_t;
      if (event == Event::object_start) {
        open_objects.emplace_back();
      } else if (event == Event::object_end) {
        open_objects.pop_back();
      } else if (event == Event::key) {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (open_objects.size() == 1) current_entry = key;
        if (!open_objects.back().insert(key).second) {
          if (open_objects.size() == 1) {
            if (key == kMetadataKey) fail("duplicate entry '__metadata__' in the header");
            fail_tensor(key, "duplicate tensor name in the header");
          }
          fail_tensor(current_entry, "duplicate field '" + key + "'");
        }
      }
      return true;
    };
    try {
      return nlohmann::json::parse(header.begin(), header.end(), on_event);
    } catch (const nlohmann::json::exception& error) {
      // The base class, because a number too large for a double (1e999) is out_of_range.
      fail(std::string("header is not valid UTF-8 JSON: ") + error.what());
    }
  }

  std::map<std::string, std::string> read_metadata(const nlohmann::json& value) const {
    std::map<std::string, std::string> metadata;
    // The reference reads __metadata__ as Option<HashMap<String, String>>, so null means absent.
    if (value.is_null()) return metadata;
    if (!value.is_object()) fail("'__metadata__' must be an object of strings");
    for (const auto& [key, item] : value.items()) {
      if (!item.is_string()) fail("'__metadata__' field '" + key + "' must be a string");
      metadata.emplace(key, item.get<std::string>());
    }
    return metadata;
  }

  Entry read_entry(const std::string& name, const nlohmann::json& value) const {
    if (!value.is_object()) fail_tensor(name, "entry must be a JSON object");
    Entry entry{name, TensorDtype::F32, {}, 0, 0};
    entry.dtype = read_dtype(name, field(name, value, "dtype"));
    entry.shape = read_shape(name, field(name, value, "shape"));
    std::tie(entry.begin, entry.end) = read_offsets(name, field(name, value, "data_offsets"));
    check_byte_size(entry);
    return entry;
  }

  // Sorted by offset, each tensor must start where the previous one ended, from byte 0.
  void check_layout(const std::vector<Entry>& entries, std::uint64_t data_bytes) const {
    std::uint64_t expected_begin = 0;
    const Entry* previous = nullptr;
    for (const Entry& entry : entries) {
      if (entry.begin > expected_begin) {
        fail_tensor(entry.name, "data_offsets " + offsets_text(entry.begin, entry.end) +
                                    " leave a gap: the data before it ends at byte " +
                                    std::to_string(expected_begin));
      }
      if (entry.begin < expected_begin) {
        fail_tensor(entry.name, "data_offsets " + offsets_text(entry.begin, entry.end) +
                                    " overlap tensor '" + previous->name + "' " +
                                    offsets_text(previous->begin, previous->end));
      }
      expected_begin = entry.end;
      previous = &entry;
    }
    if (expected_begin == data_bytes) return;
    if (previous == nullptr) {
      fail("the header lists no tensors but the data section holds " + std::to_string(data_bytes) +
           " bytes");
    }
    if (expected_begin > data_bytes) {
      fail_tensor(previous->name, "data_offsets " + offsets_text(previous->begin, previous->end) +
                                      " run past the end of the data section (" +
                                      std::to_string(data_bytes) + " bytes): file is truncated");
    }
    fail_tensor(previous->name,
                "is the last tensor and ends at byte " + std::to_string(expected_begin) +
                    " but the data section holds " + std::to_string(data_bytes) +
                    " bytes: " + std::to_string(data_bytes - expected_begin) + " trailing bytes");
  }

 private:
  const nlohmann::json& field(const std::string& name, const nlohmann::json& value,
                              const char* key) const {
    auto it = value.find(key);
    if (it == value.end()) fail_tensor(name, std::string("missing field '") + key + "'");
    return *it;
  }

  TensorDtype read_dtype(const std::string& name, const nlohmann::json& value) const {
    if (!value.is_string()) fail_tensor(name, "field 'dtype' must be a string");
    const auto& text = value.get_ref<const std::string&>();
    auto dtype = dtype_from_name(text);
    if (!dtype) fail_tensor(name, "unknown dtype '" + text + "'");
    return *dtype;
  }

  std::vector<std::int64_t> read_shape(const std::string& name, const nlohmann::json& value) const {
    if (!value.is_array()) fail_tensor(name, "field 'shape' must be an array of integers");
    std::vector<std::int64_t> shape;
    shape.reserve(value.size());
    for (const nlohmann::json& dim : value) {
      if (!dim.is_number_unsigned() ||
          dim.get<std::uint64_t>() >
              static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        fail_tensor(name, "field 'shape' must hold non-negative integers, found " + describe(dim));
      }
      shape.push_back(static_cast<std::int64_t>(dim.get<std::uint64_t>()));
    }
    return shape;
  }

  std::pair<std::uint64_t, std::uint64_t> read_offsets(const std::string& name,
                                                       const nlohmann::json& value) const {
    if (!value.is_array() || value.size() != 2 || !value[0].is_number_unsigned() ||
        !value[1].is_number_unsigned()) {
      fail_tensor(name,
                  "field 'data_offsets' must be [begin, end] with non-negative integers, "
                  "found " +
                      describe(value));
    }
    const auto begin = value[0].get<std::uint64_t>();
    const auto end = value[1].get<std::uint64_t>();
    if (begin > end) {
      fail_tensor(name, "data_offsets " + offsets_text(begin, end) + " end before they begin");
    }
    return {begin, end};
  }

  void check_byte_size(const Entry& entry) const {
    // Multiply in declaration order and fail on the first overflow, as the reference does, so
    // that a shape with a zero after huge dimensions is refused here too.
    std::uint64_t bytes = 1;
    for (std::int64_t dim : entry.shape) {
      if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(dim), &bytes)) {
        fail_tensor(entry.name, "shape " + shape_text(entry.shape) + " overflows 64 bits");
      }
    }
    if (__builtin_mul_overflow(bytes, tensor_dtype_size(entry.dtype), &bytes)) {
      fail_tensor(entry.name, "shape " + shape_text(entry.shape) + " of " +
                                  std::string(tensor_dtype_name(entry.dtype)) +
                                  " overflows 64 bits");
    }
    if (bytes != entry.end - entry.begin) {
      fail_tensor(entry.name, "shape " + shape_text(entry.shape) + " of " +
                                  std::string(tensor_dtype_name(entry.dtype)) + " needs " +
                                  std::to_string(bytes) + " bytes but data_offsets " +
                                  offsets_text(entry.begin, entry.end) + " span " +
                                  std::to_string(entry.end - entry.begin));
    }
  }

  std::string label_;
};

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void throw_io(const std::filesystem::path& path, const char* action) {
  throw Error(ErrorCode::Io, path.string() + ": cannot " + action + ": " + std::strerror(errno));
}

}  // namespace

std::string_view tensor_dtype_name(TensorDtype dtype) noexcept {
  for (const DtypeInfo& info : kDtypes) {
    if (info.dtype == dtype) return info.name;
  }
  return "unknown";
}

std::size_t tensor_dtype_size(TensorDtype dtype) noexcept {
  for (const DtypeInfo& info : kDtypes) {
    if (info.dtype == dtype) return info.size;
  }
  return 0;
}

std::int64_t TensorView::element_count() const noexcept {
  std::int64_t count = 1;
  for (std::int64_t dim : shape) count *= dim;
  return count;
}

struct SafetensorsFile::Impl {
  // Exactly one of `mapping` (open) and `owned` (from_bytes) holds the file's bytes.
  void* mapping = nullptr;
  std::size_t mapping_bytes = 0;
  std::vector<std::byte> owned;

  std::string label;  // the path, or "<memory>", for errors
  std::vector<TensorView> tensors;
  std::map<std::string, std::size_t, std::less<>> index;
  std::map<std::string, std::string> metadata;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (mapping != nullptr) ::munmap(mapping, mapping_bytes);
  }

  void validate(std::span<const std::byte> file, const std::string& label);
};

void SafetensorsFile::Impl::validate(std::span<const std::byte> file, const std::string& label) {
  HeaderValidator validator(label);
  if (file.size() < 8) {
    validator.fail("file is " + std::to_string(file.size()) +
                   " bytes, shorter than the 8-byte header length");
  }
  std::uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) {
    header_bytes = (header_bytes << 8) | std::to_integer<std::uint64_t>(file[i]);
  }
  if (header_bytes > kMaxHeaderBytes) {
    validator.fail("header length " + std::to_string(header_bytes) + " exceeds the limit of " +
                   std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_bytes > file.size() - 8) {
    validator.fail("header length " + std::to_string(header_bytes) + " exceeds the " +
                   std::to_string(file.size() - 8) + " bytes that follow it");
  }
  const std::string_view header(reinterpret_cast<const char*>(file.data()) + 8, header_bytes);
  // nlohmann skips a byte-order mark that the reference's JSON parser refuses.
  if (header.starts_with("\xEF\xBB\xBF")) {
    validator.fail("header starts with a UTF-8 byte-order mark, which JSON does not allow");
  }
  // nlohmann stops at a NUL byte as if the input ended there; JSON allows none anywhere.
  if (const auto nul = header.find('\0'); nul != std::string_view::npos) {
    validator.fail("header is not valid UTF-8 JSON: NUL byte at header offset " +
                   std::to_string(nul));
  }
  const nlohmann::json document = validator.parse(header);
  if (!document.is_object()) {
    validator.fail(std::string("header must be a JSON object, not ") + document.type_name());
  }

  std::vector<Entry> entries;
  entries.reserve(document.size());
  for (const auto& [name, value] : document.items()) {
    if (name == kMetadataKey) {
      metadata = validator.read_metadata(value);
    } else {
      entries.push_back(validator.read_entry(name, value));
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  const std::span<const std::byte> data = file.subspan(8 + header_bytes);
  validator.check_layout(entries, data.size());

  tensors.reserve(entries.size());
  for (Entry& entry : entries) {
    index.emplace(entry.name, tensors.size());
    tensors.push_back(TensorView{std::move(entry.name), entry.dtype, std::move(entry.shape),
                                 data.subspan(entry.begin, entry.end - entry.begin)});
  }
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw_io(path, "open");
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) throw_io(path, "stat");
  if (!S_ISREG(status.st_mode)) {
    throw Error(ErrorCode::Io, path.string() + ": not a regular file");
  }
  auto impl = std::make_unique<Impl>();
  const auto file_bytes = static_cast<std::size_t>(status.st_size);
  // mmap refuses a zero length; such a file fails validation without being mapped.
  std::span<const std::byte> file;
  if (file_bytes > 0) {
    void* mapping = ::mmap(nullptr, file_bytes, PROT_READ, MAP_PRIVATE, fd.get(), 0);
    if (mapping == MAP_FAILED) throw_io(path, "map");
    impl->mapping = mapping;
    impl->mapping_bytes = file_bytes;
    file = {static_cast<const std::byte*>(mapping), file_bytes};
  }
  impl->label = path.string();
  impl->validate(file, impl->label);
  return SafetensorsFile(std::move(impl));
}

SafetensorsFile SafetensorsFile::from_bytes(std::span<const std::byte> bytes) {
  auto impl = std::make_unique<Impl>();
  impl->owned.assign(bytes.begin(), bytes.end());
  impl->label = "<memory>";
  impl->validate(impl->owned, impl->label);
  return SafetensorsFile(std::move(impl));
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

std::span<const TensorView> SafetensorsFile::tensors() const noexcept { return impl_->tensors; }

const TensorView* SafetensorsFile::find(std::string_view name) const noexcept {
  auto it = impl_->index.find(name);
  return it == impl_->index.end() ? nullptr : &impl_->tensors[it->second];
}

const TensorView& SafetensorsFile::at(std::string_view name) const {
  if (const TensorView* tensor = find(name)) return *tensor;
  throw Error(ErrorCode::NotFound, impl_->label + ": tensor '" + std::string(name) + "' not found");
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const noexcept {
  return impl_->metadata;
}

}  // namespace nowrec

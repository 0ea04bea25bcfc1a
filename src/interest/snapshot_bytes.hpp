// Little helpers that lay plain values out in a snapshot block's payload and read them back,
// failing through the SnapshotReader (Error(InvalidFormat) naming the file and block) when a
// payload ends early.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "interest/snapshot_file.hpp"

namespace nowrec::interest {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::byte>& out) : out_(out) {}
  template <class T>
  void put(const T& value) {
    put_bytes(&value, sizeof(T));
  }
  void put_bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::byte*>(data);
    out_.insert(out_.end(), p, p + size);
  }

 private:
  std::vector<std::byte>& out_;
};

class ByteReader {
 public:
  ByteReader(std::span<const std::byte> in, SnapshotReader& file, std::string where)
      : in_(in), file_(file), where_(std::move(where)) {}
  template <class T>
  T get() {
    T value;
    get_bytes(&value, sizeof(T));
    return value;
  }
  void get_bytes(void* data, std::size_t size) {
    if (size > in_.size() - pos_) file_.fail(where_ + " ends inside a record");
    std::memcpy(data, in_.data() + pos_, size);
    pos_ += size;
  }
  bool done() const noexcept { return pos_ == in_.size(); }

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  SnapshotReader& file_;
  std::string where_;
};

}  // namespace nowrec::interest

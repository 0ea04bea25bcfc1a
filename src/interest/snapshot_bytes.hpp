// Little helpers that lay plain values out in a snapshot block's payload and read them back,
// failing through the SnapshotReader (Error(InvalidFormat) naming the file and block) when a
// payload ends early.
#pragma once

#include <cstddef>
#include <cstdint>
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
  std::size_t remaining() const noexcept { return in_.size() - pos_; }

 private:
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  SnapshotReader& file_;
  std::string where_;
};

// Two running totals of a snapshot's body that its end block repeats (users and blocks, items and
// edges), so that a file missing whole blocks is caught.
struct BodyCounts {
  std::uint64_t first = 0;
  std::uint64_t second = 0;
};

// Writes the end block that read_body() checks: the body's two totals.
inline void write_end_block(SnapshotWriter& file, std::uint32_t end_kind, BodyCounts total) {
  std::vector<std::byte> payload;
  ByteWriter out(payload);
  out.put(total.first);
  out.put(total.second);
  file.write_block(end_kind, payload);
}

// Reads what follows a snapshot's header: blocks of `body_kind`, each handed whole to
// read_block(ByteReader&, const std::string& where), which returns what the block adds to the
// counts and must read every byte of it, then one block of `end_kind` holding the two totals.
// Fails on a block of another kind, one after the end block, totals that differ, bytes a record
// left unread, or no end block.
template <class ReadBlock>
void read_body(SnapshotReader& file, std::uint32_t body_kind, std::uint32_t end_kind,
               ReadBlock&& read_block) {
  std::uint32_t kind = 0;
  std::vector<std::byte> payload;
  BodyCounts total;
  bool ended = false;
  while (file.next(kind, payload)) {
    const std::string where = "block " + std::to_string(file.blocks_read() - 1);
    if (ended) file.fail(where + " follows the end block");
    ByteReader in(payload, file, where);
    if (kind == end_kind) {
      if (in.get<std::uint64_t>() != total.first || in.get<std::uint64_t>() != total.second) {
        file.fail("the end block's counts do not match the blocks before it");
      }
      ended = true;
      continue;
    }
    if (kind != body_kind) file.fail(where + " has unknown kind " + std::to_string(kind));
    const BodyCounts added = read_block(in, where);
    if (!in.done()) file.fail(where + " has bytes after its last record");
    total.first += added.first;
    total.second += added.second;
  }
  if (!ended) file.fail("truncated: no end block");
}

}  // namespace nowrec::interest

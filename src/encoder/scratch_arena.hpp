// Scratch memory for encode calls: grown to the high-water mark once, then reused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "encoder/encoder_front_end.hpp"

namespace nowrec::encoder {

// One call's working memory: a 64-byte aligned block that only ever grows.
//
// Thread-safety: none; an arena belongs to one call at a time (see ArenaPool).
class ScratchArena {
 public:
  // At least `bytes` bytes, 64-byte aligned. Earlier contents are lost when it grows.
  std::byte* reserve(std::size_t bytes);

  // Bytes held: the block and the capacity of the vectors below.
  std::size_t reserved_bytes() const noexcept;

  // The batch being encoded lives here too, so that a warm arena makes an encode call
  // allocation-free: the packed sequences, their lengths, the chunk boundaries, and one chunk's
  // offsets counted from its first token.
  PackedSequences batch;
  std::vector<std::size_t> lengths, boundaries, chunk_offsets;

 private:
  struct FreeDeleter {
    void operator()(std::byte* p) const noexcept;
  };
  std::unique_ptr<std::byte[], FreeDeleter> block_;
  std::size_t capacity_ = 0;
};

// Arenas for concurrent calls: each call takes one (creating it if none is free) and gives it
// back, so memory grows to what the busiest moment needed and no further.
//
// Thread-safety: acquire() and the leases' release may run concurrently.
class ArenaPool {
 public:
  class Lease {
   public:
    Lease(ArenaPool& pool, std::unique_ptr<ScratchArena> arena) noexcept
        : pool_(&pool), arena_(std::move(arena)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    ScratchArena& operator*() const noexcept { return *arena_; }
    ScratchArena* operator->() const noexcept { return arena_.get(); }

   private:
    ArenaPool* pool_;
    std::unique_ptr<ScratchArena> arena_;
  };

  Lease acquire();

  // Bytes held by the arenas not in use (all of them between calls); tests watch it stop
  // growing as shapes vary.
  std::size_t reserved_bytes();

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<ScratchArena>> free_;
  std::size_t created_ = 0;
};

}  // namespace nowrec::encoder

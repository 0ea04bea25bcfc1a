// Memory for users' state blocks (and, in a second pool, for the table entries that point at
// them), all of one size: cut from large slabs and handed back to a free list when a user leaves.
//
// A new user's block then costs no page fault on the update that creates it: slabs are populated
// when they are mapped, a few dozen blocks at a time, and a tracker told how many users to
// expect maps theirs, in huge pages where the system grants them, when it is built. Memory handed
// back is kept for the next new user (a tracker at its memory cap reuses the blocks of the users it
// evicts) and returns to the system only when the pool ends.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace nowrec::interest {

class StateBlockPool;

// Hands a block back to its pool; a default-constructed deleter belongs to an empty pointer.
struct StateBlockReturn {
  StateBlockPool* pool = nullptr;
  void operator()(std::byte* block) const noexcept;
};
using StateBlock = std::unique_ptr<std::byte[], StateBlockReturn>;

// Thread-safety: allocate() and the blocks' release may run on any thread at once. The pool must
// outlive every block it handed out.
class StateBlockPool {
 public:
  // Blocks of block_bytes (stride_for(block_bytes) apart, 64-byte aligned); reserve_blocks of
  // them are mapped and populated now.
  StateBlockPool(std::size_t block_bytes, std::size_t reserve_blocks);
  StateBlockPool(const StateBlockPool&) = delete;
  StateBlockPool& operator=(const StateBlockPool&) = delete;
  ~StateBlockPool();

  // A block of unspecified contents. Throws std::bad_alloc when no memory can be mapped.
  StateBlock allocate();
  // Maps slabs until at least `blocks` blocks are free, so that the next allocate() calls need
  // not: a caller about to take a lock that other threads wait for makes room first. Throws
  // std::bad_alloc.
  void make_room(std::size_t blocks);
  // The bytes a block of block_bytes takes in a pool: whole 64-byte lines.
  static std::size_t stride_for(std::size_t block_bytes) noexcept;
  std::size_t stride() const noexcept { return stride_; }
  // Bytes mapped so far, in use or free.
  std::size_t mapped_bytes() const;
  // Blocks mapped and not handed out.
  std::size_t free_blocks() const noexcept { return free_count_.load(std::memory_order_relaxed); }

 private:
  friend struct StateBlockReturn;
  struct Slab {
    void* address;
    std::size_t bytes;
  };
  enum class Pages { Small, Huge };

  void release(std::byte* block) noexcept;
  // The head of the free list, which is not empty (under mutex_).
  std::byte* take_free() noexcept;
  // free_count_ += blocks (under mutex_).
  void add_free_count(std::ptrdiff_t blocks) noexcept;
  // Maps a slab of `blocks` blocks and touches every page of it; takes no lock. Huge: whole 2 MB
  // pages where the system grants them (a reservation made once, whose users then cost fewer
  // TLB misses). Throws std::bad_alloc.
  Slab map_slab(std::size_t blocks, Pages pages) const;
  // Blocks in a slab mapped while users arrive.
  std::size_t growth_blocks() const noexcept;
  // Puts all of a mapped slab's blocks on the free list (takes mutex_).
  void add_slab(const Slab& slab);
  static void unmap(const Slab& slab) noexcept;

  std::size_t stride_;
  mutable std::mutex mutex_;
  std::byte* free_ = nullptr;  // blocks ready to hand out; each holds the next one's address
  // Written under mutex_; make_room() reads it without the lock to learn that it has nothing to
  // do, which is every call but the few before a slab is mapped.
  std::atomic<std::size_t> free_count_{0};
  std::vector<Slab> slabs_;
  std::size_t mapped_ = 0;
};

}  // namespace nowrec::interest

// ScratchArena and ArenaPool.
#include "encoder/scratch_arena.hpp"

#include <cstdlib>
#include <new>

namespace nowrec::encoder {

namespace {
constexpr std::size_t kAlignment = 64;
}

void ScratchArena::FreeDeleter::operator()(std::byte* p) const noexcept { std::free(p); }

std::byte* ScratchArena::reserve(std::size_t bytes) {
  if (bytes > capacity_) {
    // Grow geometrically so that a slowly rising high-water mark does not reallocate each call.
    std::size_t capacity = capacity_ + capacity_ / 2;
    if (capacity < bytes) capacity = bytes;
    capacity = (capacity + kAlignment - 1) / kAlignment * kAlignment;
    block_.reset();
    capacity_ = 0;
    void* p = std::aligned_alloc(kAlignment, capacity);
    if (p == nullptr) throw std::bad_alloc();
    block_.reset(static_cast<std::byte*>(p));
    capacity_ = capacity;
  }
  return block_.get();
}

std::size_t ScratchArena::reserved_bytes() const noexcept {
  return capacity_ + batch.reserved_bytes() +
         (lengths.capacity() + boundaries.capacity() + chunk_offsets.capacity()) *
             sizeof(std::size_t);
}

std::size_t ArenaPool::reserved_bytes() {
  std::lock_guard lock(mutex_);
  std::size_t bytes = 0;
  for (const auto& arena : free_) bytes += arena->reserved_bytes();
  return bytes;
}

ArenaPool::Lease::~Lease() {
  if (!arena_) return;
  std::lock_guard lock(pool_->mutex_);
  pool_->free_.push_back(std::move(arena_));
}

ArenaPool::Lease ArenaPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      auto arena = std::move(free_.back());
      free_.pop_back();
      return Lease(*this, std::move(arena));
    }
  }
  auto arena = std::make_unique<ScratchArena>();
  std::lock_guard lock(mutex_);
  // Room for every arena in existence, so that giving one back (in a destructor) cannot throw.
  free_.reserve(++created_);
  return Lease(*this, std::move(arena));
}

}  // namespace nowrec::encoder

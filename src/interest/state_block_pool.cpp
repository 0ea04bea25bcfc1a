// StateBlockPool: fixed-size blocks from populated anonymous mappings, with a free list.
#include "interest/state_block_pool.hpp"

#include <sanitizer/asan_interface.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>

#include "common/leak_sanitizer.hpp"

namespace nowrec::interest {
namespace {

constexpr std::size_t kLine = 64;
constexpr std::size_t kHugePage = std::size_t{2} << 20;
// A slab mapped while users arrive: a few dozen users' blocks, populated in one call. Larger
// slabs fault in no less memory, and populating one sweeps the core's L2 cache (2 MB on the
// machines measured) of the states an update is working on.
constexpr std::size_t kGrowthSlabBytes = std::size_t{256} << 10;

}  // namespace

void StateBlockReturn::operator()(std::byte* block) const noexcept {
  if (block != nullptr) pool->release(block);
}

std::size_t StateBlockPool::stride_for(std::size_t block_bytes) noexcept {
  return (std::max<std::size_t>(block_bytes, sizeof(std::byte*)) + kLine - 1) / kLine * kLine;
}

StateBlockPool::StateBlockPool(std::size_t block_bytes, std::size_t reserve_blocks)
    : stride_(stride_for(block_bytes)) {
  if (reserve_blocks > 0) add_slab(map_slab(reserve_blocks, Pages::Huge));
}

StateBlockPool::~StateBlockPool() {
  for (const Slab& slab : slabs_) unmap(slab);
}

StateBlock StateBlockPool::allocate() {
  {
    const std::lock_guard lock(mutex_);
    if (free_ != nullptr) return StateBlock(take_free(), StateBlockReturn{this});
  }
  // Nothing free: a slab is mapped and populated outside the lock, which other threads' new
  // users do not wait for (two threads may map one each: both are used).
  add_slab(map_slab(growth_blocks(), Pages::Small));
  const std::lock_guard lock(mutex_);
  return StateBlock(take_free(), StateBlockReturn{this});
}

void StateBlockPool::make_room(std::size_t blocks) {
  // Another thread may take blocks after this looks: as it may after a look under the lock.
  while (free_count_.load(std::memory_order_relaxed) < blocks) {
    add_slab(map_slab(growth_blocks(), Pages::Small));
  }
}

void StateBlockPool::add_free_count(std::ptrdiff_t blocks) noexcept {
  // The writers hold mutex_, one at a time, so a plain load and store suffice.
  const std::size_t count = free_count_.load(std::memory_order_relaxed);
  free_count_.store(count + static_cast<std::size_t>(blocks), std::memory_order_relaxed);
}

std::size_t StateBlockPool::growth_blocks() const noexcept {
  return std::max<std::size_t>(1, kGrowthSlabBytes / stride_);
}

std::byte* StateBlockPool::take_free() noexcept {
  std::byte* block = free_;
  ASAN_UNPOISON_MEMORY_REGION(block, stride_);
  std::memcpy(&free_, block, sizeof(free_));
  add_free_count(-1);
  return block;
}

void StateBlockPool::release(std::byte* block) noexcept {
  const std::lock_guard lock(mutex_);
  std::memcpy(block, &free_, sizeof(free_));
  free_ = block;
  add_free_count(1);
  // Under AddressSanitizer a block handed back is unreadable until it is handed out again, as
  // freed heap memory would be.
  ASAN_POISON_MEMORY_REGION(block, stride_);
}

std::size_t StateBlockPool::mapped_bytes() const {
  const std::lock_guard lock(mutex_);
  return mapped_;
}

StateBlockPool::Slab StateBlockPool::map_slab(std::size_t blocks, Pages pages) const {
  std::size_t bytes = blocks * stride_;
  if (bytes / blocks != stride_ || bytes > SIZE_MAX - 2 * kHugePage) throw std::bad_alloc();
  if (pages == Pages::Small) {
    void* address = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (address == MAP_FAILED) throw std::bad_alloc();
    return {address, bytes};
  }
  // Whole huge pages at a huge-page boundary: map one page more than needed and trim.
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* mapped =
      mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(mapped);
  const std::uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(mapped, aligned - start);
  const std::uintptr_t end = start + bytes + kHugePage;
  if (end > aligned + bytes)
    munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
  void* address = reinterpret_cast<void*>(aligned);
  // A hint: where transparent huge pages are off, the slab gets small pages. Either way every
  // page is touched now, not on a user's first update.
  madvise(address, bytes, MADV_HUGEPAGE);
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  auto* touch = static_cast<volatile unsigned char*>(address);
  for (std::size_t at = 0; at < bytes; at += page) touch[at] = 0;
  return {address, bytes};
}

void StateBlockPool::add_slab(const Slab& slab) {
#ifdef NOWREC_LEAK_SANITIZER
  // Blocks may hold the only pointers to heap memory (a table entry's long user id). Registered
  // first, as unmap() unregisters it.
  __lsan_register_root_region(slab.address, slab.bytes);
#endif
  const std::lock_guard lock(mutex_);
  try {
    slabs_.push_back(slab);
  } catch (...) {
    unmap(slab);
    throw;
  }
  mapped_ += slab.bytes;
  // Every block goes on the free list, the lowest address first out.
  const std::size_t blocks = slab.bytes / stride_;
  auto* first = static_cast<std::byte*>(slab.address);
  for (std::size_t i = blocks; i-- > 0;) {
    std::byte* block = first + i * stride_;
    std::memcpy(block, &free_, sizeof(free_));
    free_ = block;
  }
  add_free_count(static_cast<std::ptrdiff_t>(blocks));
  ASAN_POISON_MEMORY_REGION(slab.address, slab.bytes);
}

void StateBlockPool::unmap(const Slab& slab) noexcept {
  // The address range may be mapped again by anyone (a thread's stack): it must not stay
  // poisoned.
  ASAN_UNPOISON_MEMORY_REGION(slab.address, slab.bytes);
#ifdef NOWREC_LEAK_SANITIZER
  __lsan_unregister_root_region(slab.address, slab.bytes);
#endif
  munmap(slab.address, slab.bytes);
}

}  // namespace nowrec::interest

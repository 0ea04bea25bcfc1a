// UserTable: linear probing over (hash, entry) slots, backward-shift deletion.
#include "interest/user_table.hpp"

#include <bit>
#include <cassert>
#include <functional>
#include <new>
#include <utility>

#include "nowrec/error.hpp"

namespace nowrec::interest {

std::uint64_t user_hash(std::string_view user) noexcept {
  return std::hash<std::string_view>{}(user);
}

UserTable::UserTable(UserTable&& other) noexcept { swap(other); }

UserTable& UserTable::operator=(UserTable&& other) noexcept {
  UserTable moved(std::move(other));
  swap(moved);
  return *this;
}

UserTable::~UserTable() {
  for (std::size_t i = 0; i < capacity_; ++i) {
    if (slots_[i].entry) destroy(slots_[i].entry);
  }
}

void UserTable::destroy(UserEntry* entry) noexcept {
  entry->~UserEntry();
  StateBlock(reinterpret_cast<std::byte*>(entry), StateBlockReturn{entries_});
}

void UserTable::swap(UserTable& other) noexcept {
  std::swap(entries_, other.entries_);
  std::swap(slots_, other.slots_);
  std::swap(capacity_, other.capacity_);
  std::swap(shift_, other.shift_);
  std::swap(size_, other.size_);
}

// Fibonacci hashing: the top bits of hash * 2^64/phi. Users of one shard share hash % shards,
// so the low bits alone would crowd them into a few slots.
std::size_t UserTable::home(std::uint64_t hash) const noexcept {
  return static_cast<std::size_t>((hash * 0x9E3779B97F4A7C15ull) >> shift_);
}

UserEntry* UserTable::find(std::string_view user, std::uint64_t hash) const noexcept {
  if (size_ == 0) return nullptr;
  const std::size_t mask = capacity_ - 1;
  for (std::size_t i = home(hash);; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (!slot.entry) return nullptr;
    if (slot.hash == hash && slot.entry->first == user) return slot.entry;
  }
}

UserEntry* UserTable::insert(std::string user, UserState state, std::uint64_t hash) {
  if (entries_ == nullptr) {
    throw Error(ErrorCode::Internal, "UserTable: insert into a table that has no entry pool");
  }
  assert(entries_->stride() >= sizeof(UserEntry));
  if ((size_ + 1) * 4 > capacity_ * 3) grow();
  StateBlock memory = entries_->allocate();
  auto* entry = new (memory.get()) UserEntry(std::move(user), std::move(state));
  memory.release();
  const std::size_t mask = capacity_ - 1;
  std::size_t i = home(hash);
  while (slots_[i].entry) i = (i + 1) & mask;
  slots_[i] = Slot{hash, entry};
  ++size_;
  return entry;
}

void UserTable::erase(UserEntry* entry, std::uint64_t hash) noexcept {
  const std::size_t mask = capacity_ - 1;
  std::size_t hole = home(hash);
  while (slots_[hole].entry != entry) hole = (hole + 1) & mask;
  destroy(entry);
  // Backward shift: move later slots of the run into the hole when that keeps them reachable
  // from their home slot, so no tombstones are needed.
  for (std::size_t next = (hole + 1) & mask; slots_[next].entry; next = (next + 1) & mask) {
    const std::size_t next_home = home(slots_[next].hash);
    // next may move to hole when its home is not in the cyclic range (hole, next].
    const bool stays = hole <= next ? (hole < next_home && next_home <= next)
                                    : (hole < next_home || next_home <= next);
    if (stays) continue;
    slots_[hole] = slots_[next];
    hole = next;
  }
  slots_[hole] = Slot{};
  --size_;
}

void UserTable::prefetch_slot(std::uint64_t hash) const noexcept {
  if (capacity_ > 0) __builtin_prefetch(&slots_[home(hash)], 0, 3);
}

const UserEntry* UserTable::likely_entry(std::uint64_t hash) const noexcept {
  if (capacity_ == 0) return nullptr;
  const Slot& slot = slots_[home(hash)];
  return slot.hash == hash ? slot.entry : nullptr;
}

void UserTable::reserve(std::size_t users) {
  std::size_t capacity = capacity_ == 0 ? 16 : capacity_;
  while (users * 4 > capacity * 3) capacity *= 2;
  if (capacity != capacity_) rehash(capacity);
}

void UserTable::grow() { rehash(capacity_ == 0 ? 16 : capacity_ * 2); }

void UserTable::rehash(std::size_t capacity) {
  auto slots = std::make_unique<Slot[]>(capacity);
  std::swap(slots_, slots);
  const std::size_t old_capacity = capacity_;
  capacity_ = capacity;
  shift_ = 64 - std::countr_zero(capacity);
  const std::size_t mask = capacity_ - 1;
  for (std::size_t s = 0; s < old_capacity; ++s) {
    if (!slots[s].entry) continue;
    std::size_t i = home(slots[s].hash);
    while (slots_[i].entry) i = (i + 1) & mask;
    slots_[i] = slots[s];
  }
}

}  // namespace nowrec::interest

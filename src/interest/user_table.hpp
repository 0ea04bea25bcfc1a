// A shard's users: a flat open-addressing table of (64-bit hash, entry) slots.
//
// Why not std::unordered_map: a lookup there walks a bucket array, a chain of nodes and, since
// libstdc++ does not cache string hashes, re-hashes the keys it passes; every step is a cache
// miss that depends on the one before. Here the slot a user's hash probes first is known from
// the hash alone, so a batch can prefetch it events ahead, then the entry it points at, then the
// user's state. Entries are nodes of their own, so their addresses stay put when the table grows
// (the least-recently-active list points at them). They come from a block pool, populated a
// slab at a time (in huge pages for the users a tracker expects), so that a new user's entry
// costs no page fault and no allocator call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "interest/state_block_pool.hpp"
#include "interest/user_state.hpp"

namespace nowrec::interest {

// The hash every user id is stored and sharded under.
std::uint64_t user_hash(std::string_view user) noexcept;

class UserTable {
 public:
  // An empty table, to be assigned or swapped with one that has a pool; insert() throws
  // Error(Internal) until then.
  UserTable() = default;
  // Entries are made in blocks of `entries` (at least sizeof(UserEntry) each), which must
  // outlive the table.
  explicit UserTable(StateBlockPool& entries) noexcept : entries_(&entries) {}
  UserTable(UserTable&& other) noexcept;
  UserTable& operator=(UserTable&& other) noexcept;
  UserTable(const UserTable&) = delete;
  UserTable& operator=(const UserTable&) = delete;
  ~UserTable();

  std::size_t size() const noexcept { return size_; }
  // Bytes of the slot array.
  std::size_t slot_bytes() const noexcept { return capacity_ * sizeof(Slot); }

  // The user's entry, or null. `hash` is user_hash(user).
  UserEntry* find(std::string_view user, std::uint64_t hash) const noexcept;
  // Adds a user that is not in the table and returns its entry. Grows the table (a rehash of the
  // slots only) when it is three quarters full. Throws std::bad_alloc, or Error(Internal) for a
  // table without a pool; either way the table is unchanged.
  UserEntry* insert(std::string user, UserState state, std::uint64_t hash);
  // Removes and frees an entry of this table, stored under `hash`.
  void erase(UserEntry* entry, std::uint64_t hash) noexcept;

  // For look-ahead: asks the caches for the slot `hash` probes first, and, once that slot is
  // cached, for the entry it holds when that entry's hash matches (the likely user; find() has
  // the final word).
  void prefetch_slot(std::uint64_t hash) const noexcept;
  const UserEntry* likely_entry(std::uint64_t hash) const noexcept;

  // Calls f(UserEntry&) for every user, in slot order. f must not insert or erase.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].entry) f(*slots_[i].entry);
    }
  }

  void swap(UserTable& other) noexcept;

  // Grows the table now so that `users` users fit without growing later.
  void reserve(std::size_t users);

 private:
  struct Slot {
    std::uint64_t hash = 0;
    UserEntry* entry = nullptr;  // null: empty
  };

  std::size_t home(std::uint64_t hash) const noexcept;
  void grow();
  void rehash(std::size_t capacity);

  void destroy(UserEntry* entry) noexcept;

  StateBlockPool* entries_ = nullptr;
  std::unique_ptr<Slot[]> slots_;
  std::size_t capacity_ = 0;  // a power of two, or 0
  int shift_ = 64;            // 64 - log2(capacity)
  std::size_t size_ = 0;
};

}  // namespace nowrec::interest

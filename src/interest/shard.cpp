// A shard's least-recently-active list, threaded through its users' states.
#include <algorithm>
#include <vector>

#include "interest/tracker_impl.hpp"

namespace nowrec::interest {

void Shard::lru_unlink(UserEntry* entry) noexcept {
  UserState& state = entry->second;
  (state.lru_prev ? state.lru_prev->second.lru_next : lru_head) = state.lru_next;
  (state.lru_next ? state.lru_next->second.lru_prev : lru_tail) = state.lru_prev;
  state.lru_prev = state.lru_next = nullptr;
}

void Shard::lru_push_front(UserEntry* entry) noexcept {
  UserState& state = entry->second;
  state.lru_prev = nullptr;
  state.lru_next = lru_head;
  if (lru_head) lru_head->second.lru_prev = entry;
  lru_head = entry;
  if (!lru_tail) lru_tail = entry;
}

void Shard::erase_tail() noexcept {
  UserEntry* victim = lru_tail;
  if (!victim) return;
  lru_unlink(victim);
  users.erase(victim, user_hash(victim->first));
}

void Shard::rebuild_lru() {
  std::vector<UserEntry*> entries;
  entries.reserve(users.size());
  users.for_each([&](UserEntry& entry) { entries.push_back(&entry); });
  std::sort(entries.begin(), entries.end(), [](const UserEntry* a, const UserEntry* b) {
    return a->second.last_timestamp < b->second.last_timestamp;
  });
  lru_head = lru_tail = nullptr;
  for (UserEntry* entry : entries) lru_push_front(entry);
}

}  // namespace nowrec::interest

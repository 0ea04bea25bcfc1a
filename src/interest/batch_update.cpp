// InterestTracker::update over a batch: events checked first, then applied shard by shard with
// each user's state fetched from memory a few events ahead of its turn.
//
// Applying one event costs a few cache misses on the user's state, which no single update()
// can hide. A batch knows its next events, so it can ask for their states early: events are
// ordered by shard (stable, so one user's events keep their order), the shards ahead are locked
// when free (see HeldLocks), their users found and their states prefetched while the current
// event is applied. Each event is then applied by the
// same code as update(), which finds its user again: a user evicted in between is only a wasted
// prefetch.
#include <algorithm>
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "interest/tracker_impl.hpp"
#include "nowrec/error.hpp"
#include "nowrec/interest_tracker.hpp"

namespace nowrec {
namespace {

// Events prepared at a time. The item store's rows for them (chunk x dim floats: 96 KB at
// dim 384) are written by the store, checked, then read again when applied; they stay in the
// core's L2 in between only if they leave room there for the users' states on their way in.
// 256 (384 KB) spilled on a 512 KB L2 and was 5-27% slower at a million users.
constexpr std::size_t kChunk = 64;
// How many events before its turn each look-ahead stage reaches an event: its table slot, its
// entry, then its state in two parts (S and L, then the clusters or the negative vector), so that
// the 70-odd lines of one state reach the memory system in two bursts an event apart instead of
// one. At a million users on two threads of a Xeon, in alternating rounds: one stage per event
// (slot 3, entry 2, the whole state 1 ahead) beat 2, 3 and 4 events per stage (1.48-1.50 against
// 1.26-1.49 M events/s), and the state in two parts then gave 1.69-1.79 against 1.56-1.65 M;
// moving the stages one event further ahead gave nothing more.
constexpr std::size_t kSlotAhead = 4;
constexpr std::size_t kEntryAhead = 3;
constexpr std::size_t kShortLongAhead = 2;
constexpr std::size_t kChangedAhead = 1;
constexpr std::size_t kMaxLocks = kSlotAhead + 1;
constexpr std::uint32_t kNoRow = ~std::uint32_t{0};

// One thread's working memory, kept between batches.
struct BatchScratch {
  std::vector<float> vectors;  // kChunk x dim
  // The item store's rows for the chunk's events that name only an item: one lookup_many().
  std::vector<std::int64_t> store_items;
  std::vector<float> store_rows;  // store_items.size() x dim
  std::array<bool, kChunk> store_found{};
  std::array<std::uint32_t, kChunk> store_row_of{};  // event -> its row, or kNoRow
  std::vector<interest::AppliedEvent> prepared;      // kChunk
  std::vector<interest::StoredUserKey> keys;         // kChunk
  std::vector<std::uint64_t> order;                  // (shard << 32) | position, sorted
};

// The shard locks a batch holds: taken in ascending shard order, released oldest first. Only
// the lock of the event about to be applied is waited for, and only while no other is held; the
// locks of the shards ahead are tried, and where one is busy the look-ahead waits there. So a
// batch never waits while holding a lock, and two batches sweeping the same shards do not
// convoy.
class HeldLocks {
 public:
  bool holds(std::size_t shard) const {
    return count_ > 0 && shard_[(first_ + count_ - 1) % kMaxLocks] == shard;
  }
  void take(interest::ShardMutex& mutex, std::size_t shard) { add(std::unique_lock(mutex), shard); }
  bool try_take(interest::ShardMutex& mutex, std::size_t shard) {
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    add(std::move(lock), shard);
    return true;
  }
  void release_oldest() {
    locks_[first_].unlock();
    first_ = (first_ + 1) % kMaxLocks;
    --count_;
  }

 private:
  void add(std::unique_lock<interest::ShardMutex> lock, std::size_t shard) {
    const std::size_t at = (first_ + count_) % kMaxLocks;
    locks_[at] = std::move(lock);
    shard_[at] = shard;
    ++count_;
  }

  std::unique_lock<interest::ShardMutex> locks_[kMaxLocks];
  std::size_t shard_[kMaxLocks] = {};
  std::size_t first_ = 0;
  std::size_t count_ = 0;
};

// This thread's scratch. Not inlined, so that its caller holds the address: in a shared library
// each use of a thread_local may fetch it anew with a call to __tls_get_addr, and GCC did so a
// dozen times per event in the batch loop, even through a reference bound once.
[[gnu::noinline]] BatchScratch& this_thread_scratch() {
  thread_local BatchScratch scratch;
  return scratch;
}

void prefetch_bytes(const void* at, std::size_t bytes) {
  const auto* p = static_cast<const char*>(at);
  // Unrolled as prefetch_for_update's loops: an event's vector is 24 lines at dim 384.
#pragma GCC unroll 4
  for (std::size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(p + offset, 0, 3);
}

void record_rejection(BatchUpdateResult& result, std::size_t position, const Error& error) {
  if (result.rejected == 0 || position < result.first_rejected) {
    result.first_rejected = position;
    result.first_error = error.what();
  }
  ++result.rejected;
}

}  // namespace

BatchUpdateResult InterestTracker::update(std::span<const InterestEvent> events,
                                          std::span<UpdateOutcome> outcomes) {
  if (!outcomes.empty() && outcomes.size() != events.size()) {
    throw Error(ErrorCode::InvalidArgument,
                "InterestTracker: outcomes has " + std::to_string(outcomes.size()) +
                    " elements for a batch of " + std::to_string(events.size()) + " events");
  }
  Impl& impl = *impl_;
  const std::size_t dim = impl.options.dim;
  BatchScratch& scratch = this_thread_scratch();
  scratch.vectors.resize(kChunk * dim);
  const ItemStore* store = impl.options.item_store;
  if (store) {
    scratch.store_rows.resize(kChunk * dim);
    scratch.store_items.reserve(kChunk);
  }
  scratch.prepared.resize(kChunk);
  scratch.keys.resize(kChunk);
  scratch.order.reserve(kChunk);

  BatchUpdateResult result;
  auto set_outcome = [&](std::size_t position, UpdateOutcome outcome) {
    if (!outcomes.empty()) outcomes[position] = outcome;
  };

  for (std::size_t begin = 0; begin < events.size(); begin += kChunk) {
    const std::size_t count = std::min(kChunk, events.size() - begin);
    // Without a cap, any of the chunk's users may be new: blocks and entries for all of them are
    // made ready before any shard lock is taken, so mapping memory never holds up another
    // thread's updates. (Under a cap, new users mostly take the blocks and entries of the users
    // they evict.)
    if (impl.max_users_per_shard == 0) {
      impl.blocks.make_room(count);
      impl.entries.make_room(count);
    }

    // The item store is asked for the chunk's items at once, so it can fetch its rows from
    // memory side by side. Should it throw a nowrec::Error, each event asks alone and gets its
    // own answer.
    scratch.store_items.clear();
    for (std::size_t i = 0; i < count; ++i) {
      const InterestEvent& event = events[begin + i];
      const bool from_store = store && event.item_embedding.empty() && event.item >= 0;
      scratch.store_row_of[i] = from_store ? std::uint32_t(scratch.store_items.size()) : kNoRow;
      if (from_store) scratch.store_items.push_back(event.item);
    }
    bool looked_up = false;
    if (!scratch.store_items.empty()) {
      const std::size_t rows = scratch.store_items.size();
      try {
        store->lookup_many(scratch.store_items, std::span(scratch.store_rows).first(rows * dim),
                           std::span(scratch.store_found).first(rows));
        looked_up = true;
      } catch (const Error&) {
      }
    }

    // Everything that needs no user state, outside any lock.
    scratch.order.clear();
    for (std::size_t i = 0; i < count; ++i) {
      const InterestEvent& event = events[begin + i];
      const std::uint32_t row = scratch.store_row_of[i];
      Impl::StoreRow stored;
      if (looked_up && row != kNoRow) {
        stored = {scratch.store_found[row], std::span(scratch.store_rows).subspan(row * dim, dim)};
      }
      try {
        scratch.prepared[i] = impl.prepare(event, std::span(scratch.vectors).subspan(i * dim, dim),
                                           looked_up && row != kNoRow ? &stored : nullptr);
      } catch (const Error& error) {
        // Only a bad event is skipped. A store or encoder that could not answer (Io,
        // DeviceUnavailable, ...) fails the call, so that a host retries the event instead of
        // counting it as applied or moving its stream past it.
        if (error.code() != ErrorCode::InvalidArgument) throw;
        record_rejection(result, begin + i, error);
        set_outcome(begin + i, UpdateOutcome::Rejected);
        continue;
      }
      scratch.keys[i] = interest::StoredUserKey(impl.options, event.user);
      const std::uint64_t shard = impl.shard_index(scratch.keys[i].hash());
      scratch.order.push_back(shard << 32 | i);
    }
    // Unique keys, so the unstable sort keeps each shard's events in their order.
    std::sort(scratch.order.begin(), scratch.order.end());

    const std::size_t total = scratch.order.size();
    const auto shard_at = [&](std::size_t k) { return scratch.order[k] >> 32; };
    const auto position_at = [&](std::size_t k) { return scratch.order[k] & 0xFFFFFFFFu; };
    HeldLocks locks;
    std::size_t slot_cursor = 0, entry_cursor = 0, short_long_cursor = 0, changed_cursor = 0;
    // Asks for part of the state of the user of the event at `cursor`. The user is found again at
    // each stage: an update between the stages may have evicted them.
    const auto prefetch_state = [&](std::size_t cursor, interest::StateLines lines) {
      const interest::StoredUserKey& key = scratch.keys[position_at(cursor)];
      const interest::UserTable& users = impl.shards[shard_at(cursor)].users;
      if (const auto* entry = users.find(key.view(), key.hash())) {
        interest::prefetch_for_update(entry->second, impl.layout,
                                      scratch.prepared[position_at(cursor)].weight, lines);
      }
    };
    for (std::size_t k = 0; k < total; ++k) {
      for (; slot_cursor < std::min(total, k + 1 + kSlotAhead); ++slot_cursor) {
        const std::size_t shard = shard_at(slot_cursor);
        interest::ShardMutex& mutex = impl.shards[shard].mutex;
        if (!locks.holds(shard)) {
          if (slot_cursor == k) {
            locks.take(mutex, shard);  // nothing else is held: see HeldLocks
          } else if (!locks.try_take(mutex, shard)) {
            break;
          }
        }
        impl.shards[shard].users.prefetch_slot(scratch.keys[position_at(slot_cursor)].hash());
      }
      for (; entry_cursor < std::min(slot_cursor, k + 1 + kEntryAhead); ++entry_cursor) {
        const interest::UserTable& users = impl.shards[shard_at(entry_cursor)].users;
        if (const auto* entry =
                users.likely_entry(scratch.keys[position_at(entry_cursor)].hash())) {
          prefetch_bytes(entry, sizeof(*entry));
        }
      }
      for (; short_long_cursor < std::min(entry_cursor, k + 1 + kShortLongAhead);
           ++short_long_cursor) {
        prefetch_state(short_long_cursor, interest::StateLines::ShortLong);
      }
      for (; changed_cursor < std::min(short_long_cursor, k + 1 + kChangedAhead);
           ++changed_cursor) {
        prefetch_state(changed_cursor, interest::StateLines::Changed);
        const auto vector = scratch.prepared[position_at(changed_cursor)].vector;
        prefetch_bytes(vector.data(), vector.size_bytes());
      }

      const std::size_t shard = shard_at(k);
      const std::size_t i = position_at(k);
      try {
        const bool applied = impl.apply_locked(impl.shards[shard], scratch.keys[i],
                                               events[begin + i], scratch.prepared[i]);
        ++(applied ? result.applied : result.duplicates);
        set_outcome(begin + i, applied ? UpdateOutcome::Applied : UpdateOutcome::Duplicate);
      } catch (const Error& error) {
        record_rejection(result, begin + i, error);
        set_outcome(begin + i, UpdateOutcome::Rejected);
      }
      if (k + 1 == total || shard_at(k + 1) != shard) locks.release_oldest();
    }
  }
  return result;
}

}  // namespace nowrec

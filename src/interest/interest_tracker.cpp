// InterestTracker: validates events, finds their vector, and applies them under the user's shard.
#include "nowrec/interest_tracker.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include <unistd.h>

#include "common/vector_dim.hpp"
#include "cpu/dispatch.hpp"
#include "interest/tracker_impl.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec {
namespace {

using interest::Group;
using interest::UserEntry;
using interest::UserState;

[[noreturn]] void invalid(const std::string& message) {
  throw Error(ErrorCode::InvalidArgument, "InterestTracker: " + message);
}

// A NaN or an infinity anywhere makes the sum of squares NaN or infinite, so one pass of the
// CPU's vector kernel clears the common case; the values are looked at one by one only when that
// sum is not finite (a finite vector whose squares overflow passes there).
// Returns the values' sum of squares, which the clusters' cosines reuse.
float require_finite(std::span<const float> values, const char* what) {
  const float squared_norm = cpu::kernels().dot(values.data(), values.data(), values.size());
  if (std::isfinite(squared_norm)) return squared_norm;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      invalid(std::string(what) + " has a non-finite value at position " + std::to_string(i));
    }
  }
  return squared_norm;  // every value finite, but the squares overflow
}

// a - b, held at the int64 range instead of overflowing (timestamps come from outside).
std::int64_t saturating_sub(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t out = 0;
  if (!__builtin_sub_overflow(a, b, &out)) return out;
  return b > 0 ? std::numeric_limits<std::int64_t>::min()
               : std::numeric_limits<std::int64_t>::max();
}

void require_half_life(double seconds, const char* name) {
  if (!(seconds > 0) || !std::isfinite(seconds)) {
    invalid(std::string(name) + " must be positive and finite");
  }
}

void validate(const InterestTrackerOptions& options) {
  common::check_vector_dim(options.dim, "InterestTracker: dim");
  require_half_life(options.short_term_half_life_seconds, "short_term_half_life_seconds");
  require_half_life(options.long_term_half_life_seconds, "long_term_half_life_seconds");
  require_half_life(options.interest_half_life_seconds, "interest_half_life_seconds");
  require_half_life(options.negative_half_life_seconds, "negative_half_life_seconds");
  if (options.shards == 0) invalid("shards must be positive");
  if (options.max_interests == 0 || options.max_interests > 255) {
    invalid("max_interests must be in 1..255");
  }
  if (options.recent_window > 65535) invalid("recent_window must be at most 65535");
  if (!std::isfinite(options.join_min_cosine)) invalid("join_min_cosine must be finite");
  if (options.allowed_lateness_seconds < 0) invalid("allowed_lateness_seconds must be >= 0");
  if (options.ttl_seconds < 0) invalid("ttl_seconds must be >= 0");
  if (!options.user_id_key.empty() && options.user_id_key.size() != 16) {
    invalid("user_id_key must be empty or 16 bytes, got " +
            std::to_string(options.user_id_key.size()));
  }
  if (options.actions.size() >= interest::kNoAction) invalid("too many actions");
  for (std::size_t i = 0; i < options.actions.size(); ++i) {
    const ActionWeight& action = options.actions[i];
    if (action.name.empty()) invalid("actions[" + std::to_string(i) + "] has an empty name");
    if (!std::isfinite(action.weight) || !std::isfinite(action.value_weight)) {
      invalid("action '" + action.name + "' has a non-finite weight");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (options.actions[j].name == action.name) {
        invalid("action '" + action.name + "' appears twice");
      }
    }
  }
  if (options.encoder && options.encoder->dim() != options.dim) {
    invalid("the encoder's dim " + std::to_string(options.encoder->dim()) + " is not dim " +
            std::to_string(options.dim));
  }
}

// A user's share of memory: its state block and its table entry (pool strides), and two table
// slots (the table is between 3/8 and 3/4 full).
std::size_t bytes_per_user(std::size_t block_stride) {
  const std::size_t entry = interest::StateBlockPool::stride_for(sizeof(UserEntry));
  constexpr std::size_t slots = 2 * (sizeof(std::uint64_t) + sizeof(void*));
  return block_stride + entry + slots;
}

// Users whose state blocks and table entries are mapped up front: the expected users, no more
// than the memory cap holds. Throws Error(InvalidArgument) when they would not fit in the
// machine's memory, rather than leave the system to kill the process while it touches them.
std::size_t reserved_users(const InterestTrackerOptions& options, std::size_t bytes_per_user) {
  const std::size_t users =
      options.max_memory_bytes == 0
          ? options.expected_users
          : std::min(options.expected_users, options.max_memory_bytes / bytes_per_user);
  const auto pages = sysconf(_SC_PHYS_PAGES), page_bytes = sysconf(_SC_PAGESIZE);
  const std::size_t memory = pages > 0 && page_bytes > 0 ? std::size_t(pages) * page_bytes : 0;
  if (memory > 0 && users > memory / bytes_per_user) {
    invalid("expected_users " + std::to_string(options.expected_users) + " needs " +
            std::to_string(users) + " users' state of " + std::to_string(bytes_per_user) +
            " bytes each, more than this machine's " + std::to_string(memory) + " bytes of memory");
  }
  return users;
}

// Where an event's vector is assembled; one per thread, so the hot path allocates nothing.
thread_local std::vector<float> event_vector;
thread_local std::vector<float> text_vector;

}  // namespace

InterestTracker::Impl::Impl(const InterestTrackerOptions& opts)
    : Impl(opts, interest::check_options(opts)) {}

InterestTracker::Impl::Impl(const InterestTrackerOptions& opts,
                            const interest::TrackerSizing& sizing)
    : options(opts),
      layout(sizing.layout),
      bytes_per_user(sizing.bytes_per_user),
      reserved_users(sizing.reserved_users),
      blocks(layout.block_bytes, reserved_users),
      entries(sizeof(UserEntry), reserved_users),
      shards(opts.shards) {
  decay.half_life[interest::kShort] = opts.short_term_half_life_seconds;
  decay.half_life[interest::kLong] = opts.long_term_half_life_seconds;
  decay.half_life[interest::kNegative] = opts.negative_half_life_seconds;
  decay.half_life[interest::kClusters] = opts.interest_half_life_seconds;
  decay.join_min_cosine = opts.join_min_cosine;
  track_lru = opts.max_memory_bytes > 0 || opts.ttl_seconds > 0;
  if (opts.max_memory_bytes > 0) {
    max_users_per_shard =
        std::max<std::size_t>(1, opts.max_memory_bytes / bytes_per_user / opts.shards);
  }
  for (interest::Shard& shard : shards) {
    shard.users = make_table();
    reserve_expected(shard.users);
  }
}

namespace interest {

TrackerSizing check_options(const InterestTrackerOptions& options) {
  validate(options);
  TrackerSizing sizing;
  sizing.layout =
      StateLayout::make(options.dim, options.max_interests, options.recent_window, options.dtype);
  sizing.bytes_per_user =
      nowrec::bytes_per_user(StateBlockPool::stride_for(sizing.layout.block_bytes));
  sizing.reserved_users = nowrec::reserved_users(options, sizing.bytes_per_user);
  return sizing;
}

}  // namespace interest

InterestTracker::InterestTracker(const InterestTrackerOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}

InterestTracker::InterestTracker(InterestTracker&&) noexcept = default;
InterestTracker& InterestTracker::operator=(InterestTracker&&) noexcept = default;
InterestTracker::~InterestTracker() = default;

void InterestTracker::Impl::reserve_expected(interest::UserTable& table) const {
  if (options.expected_users == 0) return;
  // Hash spread leaves some shards above the mean; an eighth more covers it at these sizes.
  std::size_t per_shard = options.expected_users / options.shards;
  if (max_users_per_shard > 0) per_shard = std::min(per_shard, max_users_per_shard);
  table.reserve(per_shard + per_shard / 8 + 16);
}

interest::AppliedEvent InterestTracker::Impl::prepare(const InterestEvent& event,
                                                      std::span<float> scratch,
                                                      const StoreRow* stored) {
  const std::size_t dim = options.dim;
  interest::AppliedEvent applied;
  applied.timestamp = event.timestamp;
  applied.item = event.item;
  try {
    if (event.user.empty()) invalid("empty user id");
    if (event.user.size() > kMaxUserIdBytes) {
      invalid("user id of " + std::to_string(event.user.size()) + " bytes, more than the " +
              std::to_string(kMaxUserIdBytes) + " allowed");
    }
    if (!std::isfinite(event.weight)) invalid("weight is not finite");
    if (event.value && !std::isfinite(*event.value)) invalid("value is not finite");
    float weight = event.weight;
    if (!event.action.empty()) {
      const auto& actions = options.actions;
      const auto it = std::find_if(actions.begin(), actions.end(),
                                   [&](const ActionWeight& a) { return a.name == event.action; });
      if (it == actions.end()) invalid("unknown action '" + std::string(event.action) + "'");
      applied.action = static_cast<std::uint16_t>(it - actions.begin());
      weight *= it->weight + it->value_weight * event.value.value_or(0.0f);
      if (!std::isfinite(weight)) invalid("action '" + it->name + "' gives a non-finite weight");
    }
    applied.weight = weight;

    int sources = 0;
    if (!event.item_embedding.empty()) {
      if (event.item_embedding.size() != dim) {
        invalid("item embedding has " + std::to_string(event.item_embedding.size()) +
                " values, expected dim " + std::to_string(dim));
      }
      applied.squared_norm = require_finite(event.item_embedding, "item embedding");
      // The common case, an embedding alone, is used where it lies; no copy.
      applied.vector = event.item_embedding;
      ++sources;
    } else if (event.item >= 0 && options.item_store) {
      const bool found =
          stored != nullptr ? stored->found : options.item_store->lookup(event.item, scratch);
      if (!found) invalid("item " + std::to_string(event.item) + " is not in the item store");
      const std::span<const float> row = stored != nullptr ? stored->vector : scratch;
      applied.squared_norm = require_finite(row, "the item store's embedding");
      applied.vector = row;
      ++sources;
    }
    if (event.text) {
      if (event.text->empty()) invalid("event text is empty");
      if (!options.encoder) invalid("event has text but no encoder was given in the options");
      text_vector.resize(dim);
      const std::string_view texts[] = {*event.text};
      options.encoder->encode(texts, text_vector);
      applied.squared_norm = require_finite(text_vector, "the encoded text");
      if (sources == 0) {
        std::copy(text_vector.begin(), text_vector.end(), scratch.begin());
      } else {
        // Embedding and text: their mean (scratch may hold the item's vector: read it first).
        const std::span<const float> item = applied.vector;
        for (std::size_t i = 0; i < dim; ++i) scratch[i] = 0.5f * (item[i] + text_vector[i]);
        applied.squared_norm = require_finite(scratch, "the mean of embedding and text");
      }
      applied.vector = scratch;
      ++sources;
    }
    if (sources == 0) {
      invalid("event for user '" + std::string(event.user) +
              "' has no vector: give item_embedding, an item with an item store, or text");
    }
    // Larger events would carry the user's sums (and the clusters' squared norms) out of float's
    // range: checked here, before anything changes.
    const double magnitude =
        std::abs(double(applied.weight)) * std::sqrt(double(applied.squared_norm));
    if (!(magnitude <= kMaxEventMagnitude)) {
      invalid("event for user '" + std::string(event.user) + "' has weight " +
              std::to_string(applied.weight) + " and an embedding of norm " +
              std::to_string(std::sqrt(double(applied.squared_norm))) +
              ": their product is above the largest allowed, " +
              std::to_string(kMaxEventMagnitude));
    }
  } catch (const Error&) {
    rejected.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
  return applied;
}

bool InterestTracker::Impl::apply_locked(interest::Shard& shard,
                                         const interest::StoredUserKey& user,
                                         const InterestEvent& event,
                                         const interest::AppliedEvent& applied) {
  // Drops the least recently active users whose last event is more than the TTL before this
  // event, stopping at `keep`.
  const auto expire_idle = [&](const UserEntry* keep) {
    if (options.ttl_seconds <= 0) return;
    const std::int64_t oldest_kept = saturating_sub(event.timestamp, options.ttl_seconds);
    while (shard.lru_tail && shard.lru_tail != keep &&
           shard.lru_tail->second.last_timestamp < oldest_kept) {
      shard.erase_tail();
      ++shard.counters.expired;
    }
  };
  // Evicts the least recently active users while the shard holds more than `kept`, stopping at
  // `keep`.
  const auto evict_beyond = [&](std::size_t kept, const UserEntry* keep) {
    while (shard.users.size() > kept && shard.lru_tail && shard.lru_tail != keep) {
      shard.erase_tail();
      ++shard.counters.evicted;
    }
  };
  UserEntry* it = shard.users.find(user.view(), user.hash());
  if (it) {
    const UserState& state = it->second;
    if (event.sequence != 0 && event.sequence <= state.last_sequence) {
      ++shard.counters.duplicate;
      return false;
    }
    if (event.timestamp < saturating_sub(state.last_timestamp, options.allowed_lateness_seconds)) {
      rejected.fetch_add(1, std::memory_order_relaxed);
      invalid("event for user '" + std::string(event.user) + "' at " +
              std::to_string(event.timestamp) + " is older than its last event at " +
              std::to_string(state.last_timestamp) + " by more than the allowed lateness of " +
              std::to_string(options.allowed_lateness_seconds) + " s");
    }
    const std::int64_t offset = saturating_sub(event.timestamp, state.first_timestamp);
    if (offset > std::numeric_limits<std::int32_t>::max() ||
        offset < std::numeric_limits<std::int32_t>::min()) {
      rejected.fetch_add(1, std::memory_order_relaxed);
      invalid("event for user '" + std::string(event.user) + "' at " +
              std::to_string(event.timestamp) + " is more than 68 years from its first event");
    }
    if (track_lru) shard.lru_unlink(it);
  } else {
    // A new user: the users the TTL has expired leave first, then, at the cap, the least
    // recently active ones, so the new user's state takes a block they freed instead of one more.
    expire_idle(nullptr);
    if (max_users_per_shard > 0) evict_beyond(max_users_per_shard - 1, nullptr);
    it =
        shard.users.insert(std::string(user.view()),
                           interest::make_user_state(blocks, layout, event.timestamp), user.hash());
  }
  UserState& state = it->second;
  interest::apply_event(state, layout, decay, applied);
  if (event.sequence != 0) state.last_sequence = event.sequence;
  ++shard.counters.applied;
  if (track_lru) shard.lru_push_front(it);

  // The user just updated is at the head, so neither can remove it. (Above the cap only after a
  // restore of a larger tracker's snapshot.)
  expire_idle(it);
  if (max_users_per_shard > 0) evict_beyond(max_users_per_shard, it);
  return true;
}

bool InterestTracker::update(const InterestEvent& event) {
  const interest::StoredUserKey stored(impl_->options, event.user);
  interest::Shard& shard = impl_->shard_of(stored);
  bool takes_block = false;
  {
    // Asks for the user's state first, so that it travels from memory while the event is
    // checked and its vector looked up.
    const std::lock_guard lock(shard.mutex);
    if (const UserEntry* entry = shard.users.find(stored.view(), stored.hash())) {
      interest::prefetch_for_update(entry->second, impl_->layout, std::nullopt);
    } else {
      takes_block =
          impl_->max_users_per_shard == 0 || shard.users.size() < impl_->max_users_per_shard;
    }
  }
  event_vector.resize(impl_->options.dim);
  const interest::AppliedEvent applied = impl_->prepare(event, event_vector);
  // A new user who evicts no one needs a block and an entry, which may mean memory mapped and
  // populated: done here, not under the shard lock that other threads' updates wait for.
  if (takes_block) {
    impl_->blocks.make_room(1);
    impl_->entries.make_room(1);
  }
  const std::lock_guard lock(shard.mutex);
  return impl_->apply_locked(shard, stored, event, applied);
}

namespace {

void require_not_before_last(const UserState& state, std::string_view user, std::int64_t now) {
  if (now < state.last_timestamp) {
    invalid("now = " + std::to_string(now) + " is older than user '" + std::string(user) +
            "''s last event at " + std::to_string(state.last_timestamp));
  }
}

// Scales `vector` to unit length (a zero vector stays zero).
void normalize(std::span<float> vector) {
  float norm = 0.0f;
  for (float x : vector) norm += x * x;
  norm = std::sqrt(norm);
  if (norm > 0.0f) {
    for (float& x : vector) x /= norm;
  }
}

// The next slot of `out` past `used`, reusing an element (and its vector's capacity) left from
// an earlier call.
Interest& next_slot(std::vector<Interest>& out, std::size_t& used, InterestKind kind, float weight,
                    std::size_t dim) {
  if (used == out.size()) out.emplace_back();
  Interest& slot = out[used++];
  slot.kind = kind;
  slot.weight = weight;
  slot.vector.resize(dim);
  return slot;
}

}  // namespace

std::optional<std::vector<float>> InterestTracker::short_term_interest(std::string_view user,
                                                                       std::int64_t now) const {
  const interest::StoredUserKey stored(impl_->options, user);
  const interest::Shard& shard = impl_->shard_of(stored);
  const std::lock_guard lock(shard.mutex);
  const UserEntry* it = shard.users.find(stored.view(), stored.hash());
  if (!it) return std::nullopt;
  require_not_before_last(it->second, user, now);
  std::vector<float> out(impl_->options.dim);
  interest::read_vector(it->second, impl_->layout, impl_->decay, interest::kShort, 0, now, out);
  return out;
}

std::vector<Interest> InterestTracker::interests(std::string_view user, std::int64_t now) const {
  std::vector<Interest> result;
  interests(user, now, result);
  return result;
}

void InterestTracker::interests(std::string_view user, std::int64_t now,
                                std::vector<Interest>& out) const {
  out.resize(fill_interests(user, now, out));
}

std::size_t InterestTracker::fill_interests(std::string_view user, std::int64_t now,
                                            std::vector<Interest>& out) const {
  const std::size_t dim = impl_->options.dim;
  const auto& layout = impl_->layout;
  const auto& decay = impl_->decay;
  const NextInterestModel* model = impl_->options.next_interest_model;
  thread_local std::vector<RecentEvent> recent;
  recent.clear();
  std::size_t used = 0;
  {
    const interest::StoredUserKey stored(impl_->options, user);
    const interest::Shard& shard = impl_->shard_of(stored);
    const std::lock_guard lock(shard.mutex);
    const UserEntry* it = shard.users.find(stored.view(), stored.hash());
    if (!it) return 0;
    const UserState& state = it->second;
    require_not_before_last(state, user, now);
    auto add = [&](InterestKind kind, Group group, std::size_t cluster) {
      Interest& slot = next_slot(
          out, used, kind, interest::read_weight(state, layout, decay, group, cluster, now), dim);
      interest::read_vector(state, layout, decay, group, cluster, now, slot.vector);
      normalize(slot.vector);
    };
    add(InterestKind::ShortTerm, interest::kShort, 0);
    add(InterestKind::LongTerm, interest::kLong, 0);
    // Clusters, most important first (a stable order: equal importances keep their slots). An
    // insertion sort: there are at most 255, and std::stable_sort would allocate.
    std::array<std::uint8_t, 256> order;
    const float* importance = interest::importances(state, layout);
    for (std::size_t k = 0; k < state.clusters; ++k) {
      std::size_t at = k;
      while (at > 0 && importance[order[at - 1]] < importance[k]) {
        order[at] = order[at - 1];
        --at;
      }
      order[at] = static_cast<std::uint8_t>(k);
    }
    for (std::size_t k = 0; k < state.clusters; ++k) {
      add(InterestKind::Cluster, interest::kClusters, order[k]);
    }
    add(InterestKind::Negative, interest::kNegative, 0);
    if (model != nullptr) {
      const interest::WindowEntry* entries = interest::window_entries(state, layout);
      for (std::size_t i = 0; i < state.window_size; ++i) {
        const auto& e = entries[(state.window_start + i) % layout.window];
        recent.push_back(
            RecentEvent{e.item, state.first_timestamp + e.time_offset,
                        e.action == interest::kNoAction
                            ? std::string_view()
                            : std::string_view(impl_->options.actions[e.action].name)});
      }
    }
  }
  if (model != nullptr) {
    Interest& predicted = next_slot(out, used, InterestKind::Predicted, 0.0f, dim);
    const std::optional<float> weight = model->predict(user, recent, now, predicted.vector);
    if (weight) {
      if (!std::isfinite(*weight)) invalid("the next-interest model returned a non-finite weight");
      require_finite(predicted.vector, "the next-interest model's prediction");
      predicted.weight = *weight;
      normalize(predicted.vector);
      // Predicted goes just before the negative-feedback vector, which stays last.
      std::swap(out[used - 2], out[used - 1]);
    } else {
      --used;
    }
  }
  return used;
}

std::vector<RecentEvent> InterestTracker::recent_events(std::string_view user) const {
  std::vector<RecentEvent> recent;
  recent_events(user, recent);
  return recent;
}

void InterestTracker::recent_events(std::string_view user, std::vector<RecentEvent>& out) const {
  out.clear();
  const interest::StoredUserKey stored(impl_->options, user);
  const interest::Shard& shard = impl_->shard_of(stored);
  const std::lock_guard lock(shard.mutex);
  const UserEntry* it = shard.users.find(stored.view(), stored.hash());
  if (!it) return;
  const UserState& state = it->second;
  const interest::WindowEntry* entries = interest::window_entries(state, impl_->layout);
  for (std::size_t i = 0; i < state.window_size; ++i) {
    const auto& e = entries[(state.window_start + i) % impl_->layout.window];
    out.push_back(RecentEvent{e.item, state.first_timestamp + e.time_offset,
                              e.action == interest::kNoAction
                                  ? std::string_view()
                                  : std::string_view(impl_->options.actions[e.action].name)});
  }
}

std::optional<UserStats> InterestTracker::user_stats(std::string_view user) const {
  const interest::StoredUserKey stored(impl_->options, user);
  const interest::Shard& shard = impl_->shard_of(stored);
  const std::lock_guard lock(shard.mutex);
  const UserEntry* it = shard.users.find(stored.view(), stored.hash());
  if (!it) return std::nullopt;
  const UserState& state = it->second;
  std::size_t memory = impl_->bytes_per_user;
  if (it->first.capacity() > 15) memory += it->first.capacity() + 1;
  return UserStats{state.events,   state.first_timestamp, state.last_timestamp,
                   state.clusters, state.last_sequence,   memory};
}

TrackerStats InterestTracker::stats() const {
  TrackerStats stats;
  for (const interest::Shard& shard : impl_->shards) {
    const std::lock_guard lock(shard.mutex);
    stats.users += shard.users.size();
    stats.events_applied += shard.counters.applied;
    stats.events_duplicate += shard.counters.duplicate;
    stats.users_evicted += shard.counters.evicted;
    stats.users_expired += shard.counters.expired;
    stats.users_forgotten += shard.counters.forgotten;
    stats.memory_bytes += shard.users.size() * impl_->bytes_per_user;
  }
  stats.events_rejected = impl_->rejected.load(std::memory_order_relaxed);
  stats.mapped_state_bytes = impl_->blocks.mapped_bytes() + impl_->entries.mapped_bytes();
  return stats;
}

std::size_t InterestTracker::user_count() const {
  std::size_t count = 0;
  for (const interest::Shard& shard : impl_->shards) {
    const std::lock_guard lock(shard.mutex);
    count += shard.users.size();
  }
  return count;
}

std::size_t InterestTracker::bytes_per_user() const noexcept { return impl_->bytes_per_user; }

bool InterestTracker::forget(std::string_view user) {
  const interest::StoredUserKey stored(impl_->options, user);
  interest::Shard& shard = impl_->shard_of(stored);
  const std::lock_guard lock(shard.mutex);
  UserEntry* found = shard.users.find(stored.view(), stored.hash());
  if (!found) return false;
  shard.lru_unlink(found);
  // No copy of the user's vectors or window is left behind in freed memory.
  std::memset(found->second.block.get(), 0, impl_->layout.block_bytes);
  shard.users.erase(found, stored.hash());
  ++shard.counters.forgotten;
  return true;
}

std::size_t InterestTracker::expire(std::int64_t now) {
  if (impl_->options.ttl_seconds <= 0) return 0;
  std::size_t removed = 0;
  for (interest::Shard& shard : impl_->shards) {
    const std::lock_guard lock(shard.mutex);
    thread_local std::vector<UserEntry*> expired;
    expired.clear();
    shard.users.for_each([&](UserEntry& entry) {
      if (entry.second.last_timestamp < saturating_sub(now, impl_->options.ttl_seconds)) {
        expired.push_back(&entry);
      }
    });
    for (UserEntry* entry : expired) {
      shard.lru_unlink(entry);
      shard.users.erase(entry, interest::user_hash(entry->first));
    }
    shard.counters.expired += expired.size();
    removed += expired.size();
  }
  return removed;
}

const InterestTrackerOptions& InterestTracker::options() const noexcept { return impl_->options; }

}  // namespace nowrec

// Applying an event to one user's state: decay by group scale, clusters by cosine, the window.
#include "interest/user_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include "interest/state_vectors.hpp"

namespace nowrec::interest {
namespace {

// Below this (20 half-lives) a group's scale is folded into its vectors. Stored values are the
// true ones divided by the scale, and a cluster's squared norm is kept in fp32, so the bound
// decides how large a true cluster may grow before that square overflows: 1.8e19 x 2^-20, about
// 1.7e13. (A bound near 1e-18 would allow about 18, which an active user's cluster reaches.)
constexpr float kMinScale = 0x1p-20f;

// later - earlier in seconds, without the overflow an int64 subtraction of far-apart times has.
double seconds_between(std::int64_t later, std::int64_t earlier) {
  return static_cast<double>(later) - static_cast<double>(earlier);
}

std::size_t round_up(std::size_t n) { return (n + 15) / 16 * 16; }

template <class T>
T* vector_at(const UserState& state, const StateLayout& layout, Group group, std::size_t cluster) {
  std::size_t offset = 0;
  switch (group) {
    case kShort:
      offset = layout.short_offset;
      break;
    case kLong:
      offset = layout.long_offset;
      break;
    case kNegative:
      offset = layout.negative_offset;
      break;
    case kClusters:
      offset = layout.clusters_offset + cluster * layout.dim * sizeof(T);
      break;
    default:
      break;
  }
  return reinterpret_cast<T*>(state.block.get() + offset);
}

float* sq_norms(const UserState& state, const StateLayout& layout) {
  return reinterpret_cast<float*>(state.block.get() + layout.sq_norm_offset);
}

// Multiplies a group's scale by `factor`; folds the scale into the stored values when it gets
// small, so that 1 / scale stays representable.
template <class T>
void decay_group(UserState& state, const StateLayout& layout, Group group, double factor) {
  const float next = static_cast<float>(state.scale[group] * factor);
  if (next >= kMinScale) {
    state.scale[group] = next;
    return;
  }
  if (group == kClusters) {
    float* importance = importances(state, layout);
    float* norms = sq_norms(state, layout);
    for (std::size_t k = 0; k < state.clusters; ++k) {
      norms[k] = scale_squared_norm(next, vector_at<T>(state, layout, kClusters, k), layout.dim);
      importance[k] *= next;
    }
  } else {
    scale(next, vector_at<T>(state, layout, group, 0), layout.dim);
    state.weight[group] *= next;
  }
  state.scale[group] = 1.0f;
}

template <class T>
void add_to_cluster(UserState& state, const StateLayout& layout, const DecayParams& params,
                    std::span<const float> x, float x_squared_norm, float amount) {
  const std::size_t dim = layout.dim;
  const float x_norm = std::sqrt(x_squared_norm);
  if (!(x_norm > 0.0f)) return;
  float* importance = importances(state, layout);
  float* norms = sq_norms(state, layout);
  std::size_t best = 0;
  float best_cosine = -2.0f;
  // The clusters lie one after another, so their inner products with x come from one pass.
  constexpr std::size_t kAtOnce = 8;
  float products[kAtOnce];
  for (std::size_t first = 0; first < state.clusters; first += kAtOnce) {
    const std::size_t count = std::min(kAtOnce, state.clusters - first);
    dots(vector_at<T>(state, layout, kClusters, first), dim, count, x.data(), dim, products);
    for (std::size_t k = first; k < first + count; ++k) {
      if (!(norms[k] > 0.0f)) continue;
      const float cosine = products[k - first] / (std::sqrt(norms[k]) * x_norm);
      if (cosine > best_cosine) {
        best_cosine = cosine;
        best = k;
      }
    }
  }
  T* target = nullptr;
  if (state.clusters > 0 && best_cosine >= params.join_min_cosine) {
    target = vector_at<T>(state, layout, kClusters, best);
    norms[best] = axpy_squared_norm(amount, x.data(), target, dim);
    importance[best] += amount;
  } else {
    if (state.clusters < layout.max_interests) {
      best = state.clusters++;
    } else {
      best = static_cast<std::size_t>(std::min_element(importance, importance + state.clusters) -
                                      importance);
    }
    target = vector_at<T>(state, layout, kClusters, best);
    norms[best] = assign_squared_norm(amount, x.data(), target, dim);
    importance[best] = amount;
  }
}

// The ring slot `i` places after `start`, for start < capacity and i <= capacity, without a
// division: the window's steps took one or two 64-bit divisions each, and with the states in
// cache the batch ran 8 % faster without them.
inline std::size_t ring_slot(std::size_t start, std::size_t i, std::size_t capacity) noexcept {
  const std::size_t slot = start + i;
  return slot < capacity ? slot : slot - capacity;
}

// Keeps the window sorted by time: a late event goes where it belongs, and one older than a full
// window's oldest is not kept.
void add_to_window(UserState& state, const StateLayout& layout, const AppliedEvent& event) {
  if (layout.window == 0) return;
  WindowEntry* entries = window_entries(state, layout);
  const std::size_t capacity = layout.window;
  const auto offset = static_cast<std::int32_t>(event.timestamp - state.first_timestamp);
  auto at = [&](std::size_t i) -> WindowEntry& {
    return entries[ring_slot(state.window_start, i, capacity)];
  };
  std::size_t position = state.window_size;
  while (position > 0 && at(position - 1).time_offset > offset) --position;
  if (state.window_size == capacity) {
    if (position == 0) return;
    state.window_start = static_cast<std::uint16_t>(ring_slot(state.window_start, 1, capacity));
    --state.window_size;
    --position;
  }
  for (std::size_t i = state.window_size; i > position; --i) at(i) = at(i - 1);
  at(position) = WindowEntry{event.item, offset, event.action, 0};
  ++state.window_size;
}

template <class T>
void apply_typed(UserState& state, const StateLayout& layout, const DecayParams& params,
                 const AppliedEvent& event) {
  // A late event counts as if it had arrived in order: its contribution is decayed from its own
  // time to the user's last event, where the stored state stands.
  double lag = 0.0;
  if (event.timestamp > state.last_timestamp) {
    const double elapsed = seconds_between(event.timestamp, state.last_timestamp);
    for (int g = 0; g < kGroups; ++g) {
      decay_group<T>(state, layout, static_cast<Group>(g),
                     decay_factor(elapsed, params.half_life[g]));
    }
    state.last_timestamp = event.timestamp;
  } else {
    lag = seconds_between(state.last_timestamp, event.timestamp);
  }
  auto amount = [&](Group g, float w) {
    const double late = lag > 0.0 ? decay_factor(lag, params.half_life[g]) : 1.0;
    return static_cast<float>(w * late / state.scale[g]);
  };
  const float w = event.weight;
  if (w != 0.0f) {
    const float a_short = amount(kShort, w), a_long = amount(kLong, w);
    axpy_pair(a_short, a_long, event.vector.data(), vector_at<T>(state, layout, kShort, 0),
              vector_at<T>(state, layout, kLong, 0), layout.dim);
    state.weight[kShort] += a_short;
    state.weight[kLong] += a_long;
  }
  if (w < 0.0f) {
    const float a = amount(kNegative, -w);
    axpy(a, event.vector.data(), vector_at<T>(state, layout, kNegative, 0), layout.dim);
    state.weight[kNegative] += a;
  } else if (w > 0.0f) {
    add_to_cluster<T>(state, layout, params, event.vector, event.squared_norm,
                      amount(kClusters, w));
  }
  add_to_window(state, layout, event);
  ++state.events;
}

}  // namespace

StateLayout StateLayout::make(std::size_t dim, std::size_t max_interests, std::size_t window,
                              StateDtype dtype) {
  StateLayout layout;
  layout.dim = dim;
  layout.max_interests = max_interests;
  layout.window = window;
  layout.dtype = dtype;
  const std::size_t vector_bytes = dim * (dtype == StateDtype::BF16 ? 2 : 4);
  layout.short_offset = 0;
  layout.long_offset = vector_bytes;
  layout.negative_offset = 2 * vector_bytes;
  layout.clusters_offset = 3 * vector_bytes;
  layout.importance_offset = round_up((3 + max_interests) * vector_bytes);
  layout.sq_norm_offset = layout.importance_offset + max_interests * sizeof(float);
  layout.window_offset = round_up(layout.sq_norm_offset + max_interests * sizeof(float));
  layout.block_bytes = layout.window_offset + window * sizeof(WindowEntry);
  return layout;
}

UserState make_user_state(StateBlockPool& blocks, const StateLayout& layout,
                          std::int64_t timestamp) {
  UserState state;
  state.block = blocks.allocate();
  std::memset(state.block.get(), 0, layout.block_bytes);
  state.first_timestamp = timestamp;
  state.last_timestamp = timestamp;
  return state;
}

void prefetch_for_update(const UserState& state, const StateLayout& layout,
                         std::optional<float> event_weight, StateLines lines) noexcept {
  constexpr std::size_t kLine = 64;
  const std::byte* block = state.block.get();
  // Only the vectors the event changes: S and L, then the clusters in use for a positive weight
  // or the negative vector for a negative one (a skip touches no cluster).
  // Unrolled: the loops issue dozens of prefetches per event, and their counting otherwise costs
  // twice the prefetches themselves. The vectors' lines go to the L2 (prefetcht1) rather than
  // the L1: at a million users, 0.4-16 % (median 4 %) more events per second on two threads of
  // a Xeon, in 8 rounds alternating with the L1 hint.
  const std::size_t vector_bytes = layout.long_offset;
  const float weight = event_weight.value_or(1.0f);
  const auto prefetch_vectors = [&](std::size_t begin, std::size_t end) {
#pragma GCC unroll 4
    for (std::size_t at = begin; at < end; at += kLine) __builtin_prefetch(block + at, 1, 2);
  };
  const bool short_long = lines != StateLines::Changed;
  const bool changed = lines != StateLines::ShortLong;
  if (short_long && weight != 0.0f) prefetch_vectors(0, 2 * vector_bytes);
  if (short_long && layout.window > 0) {
    const std::size_t end = ring_slot(state.window_start, state.window_size, layout.window);
    __builtin_prefetch(block + layout.window_offset + end * sizeof(WindowEntry), 1, 3);
  }
  if (changed && weight > 0.0f) {
    prefetch_vectors(layout.clusters_offset,
                     layout.clusters_offset + state.clusters * vector_bytes);
    __builtin_prefetch(block + layout.importance_offset, 1, 3);
    __builtin_prefetch(block + layout.sq_norm_offset, 1, 3);
  } else if (changed && weight < 0.0f) {
    prefetch_vectors(layout.negative_offset, layout.negative_offset + vector_bytes);
  }
}

double decay_factor(double elapsed_seconds, double half_life_seconds) noexcept {
  return std::exp2(-elapsed_seconds / half_life_seconds);
}

void apply_event(UserState& state, const StateLayout& layout, const DecayParams& params,
                 const AppliedEvent& event) noexcept {
  if (layout.dtype == StateDtype::BF16) {
    apply_typed<Bf16>(state, layout, params, event);
  } else {
    apply_typed<float>(state, layout, params, event);
  }
}

void read_vector(const UserState& state, const StateLayout& layout, const DecayParams& params,
                 Group group, std::size_t cluster, std::int64_t now,
                 std::span<float> out) noexcept {
  const double elapsed = seconds_between(now, state.last_timestamp);
  const auto s =
      static_cast<float>(state.scale[group] * decay_factor(elapsed, params.half_life[group]));
  if (layout.dtype == StateDtype::BF16) {
    load(vector_at<Bf16>(state, layout, group, cluster), s, out.data(), layout.dim);
  } else {
    load(vector_at<float>(state, layout, group, cluster), s, out.data(), layout.dim);
  }
}

float read_weight(const UserState& state, const StateLayout& layout, const DecayParams& params,
                  Group group, std::size_t cluster, std::int64_t now) noexcept {
  const double elapsed = seconds_between(now, state.last_timestamp);
  const double factor = state.scale[group] * decay_factor(elapsed, params.half_life[group]);
  const float stored =
      group == kClusters ? importances(state, layout)[cluster] : state.weight[group];
  return static_cast<float>(stored * factor);
}

}  // namespace nowrec::interest

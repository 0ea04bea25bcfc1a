// Per-user short-term interest with exponential time decay, in sharded, locked hash maps.
#include "nowrec/interest_tracker.hpp"

#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cpu/dispatch.hpp"
#include "nowrec/error.hpp"

namespace nowrec {
namespace {

struct UserState {
  std::vector<float> interest;  // decayed to last_timestamp
  std::int64_t last_timestamp = 0;
};

// Transparent hashing so that lookups by string_view allocate nothing.
struct UserHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view user) const noexcept {
    return std::hash<std::string_view>{}(user);
  }
};

struct Shard {
  mutable std::mutex mutex;
  std::unordered_map<std::string, UserState, UserHash, std::equal_to<>> users;
};

void require_finite(std::span<const float> values, const char* what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw Error(ErrorCode::InvalidArgument, std::string("InterestTracker: ") + what +
                                                  " has a non-finite value at position " +
                                                  std::to_string(i));
    }
  }
}

}  // namespace

struct InterestTracker::Impl {
  InterestTrackerOptions options;
  std::vector<Shard> shards;

  explicit Impl(const InterestTrackerOptions& opts) : options(opts), shards(opts.shards) {}

  Shard& shard_of(std::string_view user) { return shards[UserHash{}(user) % shards.size()]; }

  // 2^(-elapsed / half-life)
  float decay(std::int64_t elapsed_seconds) const {
    return static_cast<float>(
        std::exp2(-static_cast<double>(elapsed_seconds) / options.short_term_half_life_seconds));
  }
};

InterestTracker::InterestTracker(const InterestTrackerOptions& options) {
  if (options.dim == 0) throw Error(ErrorCode::InvalidArgument, "InterestTracker: dim must be positive");
  if (!(options.short_term_half_life_seconds > 0) ||
      !std::isfinite(options.short_term_half_life_seconds)) {
    throw Error(ErrorCode::InvalidArgument,
                "InterestTracker: short_term_half_life_seconds must be positive and finite");
  }
  if (options.shards == 0) throw Error(ErrorCode::InvalidArgument, "InterestTracker: shards must be positive");
  impl_ = std::make_unique<Impl>(options);
}

InterestTracker::InterestTracker(InterestTracker&&) noexcept = default;
InterestTracker& InterestTracker::operator=(InterestTracker&&) noexcept = default;
InterestTracker::~InterestTracker() = default;

void InterestTracker::update(const InterestEvent& event) {
  if (event.user.empty()) throw Error(ErrorCode::InvalidArgument, "InterestTracker: empty user id");
  if (event.item_embedding.size() != impl_->options.dim) {
    throw Error(ErrorCode::InvalidArgument,
                "InterestTracker: item embedding has " +
                    std::to_string(event.item_embedding.size()) + " values, expected dim " +
                    std::to_string(impl_->options.dim));
  }
  require_finite(event.item_embedding, "item embedding");
  if (!std::isfinite(event.weight)) throw Error(ErrorCode::InvalidArgument, "InterestTracker: weight is not finite");

  Shard& shard = impl_->shard_of(event.user);
  const std::lock_guard lock(shard.mutex);
  auto it = shard.users.find(event.user);
  if (it == shard.users.end()) {
    UserState state{std::vector<float>(impl_->options.dim, 0.0f), event.timestamp};
    it = shard.users.emplace(std::string(event.user), std::move(state)).first;
  } else if (event.timestamp < it->second.last_timestamp) {
    throw Error(ErrorCode::InvalidArgument,
                "InterestTracker: event for user '" + std::string(event.user) + "' at " +
                    std::to_string(event.timestamp) + " is older than its last event at " +
                    std::to_string(it->second.last_timestamp));
  }
  UserState& state = it->second;
  const float factor = impl_->decay(event.timestamp - state.last_timestamp);
  for (float& x : state.interest) x *= factor;
  cpu::kernels().axpy(event.weight, event.item_embedding.data(), state.interest.data(),
                      state.interest.size());
  state.last_timestamp = event.timestamp;
}

std::optional<std::vector<float>> InterestTracker::short_term_interest(std::string_view user,
                                                                       std::int64_t now) const {
  Shard& shard = impl_->shard_of(user);
  const std::lock_guard lock(shard.mutex);
  const auto it = shard.users.find(user);
  if (it == shard.users.end()) return std::nullopt;
  if (now < it->second.last_timestamp) {
    throw Error(ErrorCode::InvalidArgument,
                "InterestTracker: now = " + std::to_string(now) + " is older than user '" +
                    std::string(user) + "''s last event at " +
                    std::to_string(it->second.last_timestamp));
  }
  std::vector<float> interest = it->second.interest;
  const float factor = impl_->decay(now - it->second.last_timestamp);
  for (float& x : interest) x *= factor;
  return interest;
}

std::size_t InterestTracker::user_count() const {
  std::size_t count = 0;
  for (const Shard& shard : impl_->shards) {
    const std::lock_guard lock(shard.mutex);
    count += shard.users.size();
  }
  return count;
}

const InterestTrackerOptions& InterestTracker::options() const noexcept { return impl_->options; }

}  // namespace nowrec

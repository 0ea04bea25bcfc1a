// InterestTracker: per-user interest that follows every event, with exponential time decay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace nowrec {

struct InterestTrackerOptions {
  std::size_t dim = 0;                         // width of item embeddings
  double short_term_half_life_seconds = 1800;  // an event's weight halves every half-life
  std::size_t shards = 64;                     // independent locks; more shards, less contention
};

// One user action on an item, carrying the item's embedding.
struct InterestEvent {
  std::string_view user;
  std::span<const float> item_embedding;
  float weight = 1.0f;         // action weight; negative for skips and dislikes
  std::int64_t timestamp = 0;  // seconds; per user, never older than that user's last event
};

// Keeps, per user, the short-term interest: the time-decayed, weighted sum of the embeddings of
// the items the user acted on. Long-term and multiple interests, persistence and memory caps are
// not part of this class yet.
//
// Thread-safety: update() and the const methods may be called concurrently from many threads;
// calls for the same user are serialised.
class InterestTracker {
 public:
  // Throws Error(InvalidArgument) for dim 0, a non-positive or non-finite half-life, or 0 shards.
  explicit InterestTracker(const InterestTrackerOptions& options);
  InterestTracker(InterestTracker&&) noexcept;
  InterestTracker& operator=(InterestTracker&&) noexcept;
  ~InterestTracker();

  // Throws Error(InvalidArgument) for an empty user id, a wrong-size or non-finite embedding, a
  // non-finite weight, or a timestamp older than the user's last event; the user's state is then
  // unchanged.
  void update(const InterestEvent& event);

  // The user's short-term interest decayed to `now`; nullopt for a user with no events. Throws
  // Error(InvalidArgument) when `now` is older than the user's last event.
  std::optional<std::vector<float>> short_term_interest(std::string_view user,
                                                        std::int64_t now) const;

  std::size_t user_count() const;
  const InterestTrackerOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nowrec

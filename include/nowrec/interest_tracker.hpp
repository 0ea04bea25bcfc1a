// InterestTracker: per-user interest that follows every event, with exponential time decay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "nowrec/interest_types.hpp"
#include "nowrec/limits.hpp"

namespace nowrec {

// Keeps, per user: a short-term and a long-term interest (time-decayed weighted sums of the
// embeddings the user acted on), up to K distinct interests found online, a negative-feedback
// vector and a window of recent events. docs/interest_tracker.md gives the formulae.
//
// Thread-safety: every method may be called concurrently from many threads. Calls for users in
// different shards run in parallel; calls for the same user are serialised. snapshot() runs
// while updates continue; restore() waits for the calls in progress.
class InterestTracker {
 public:
  // Throws Error(InvalidArgument) naming the option at fault: dim 0 or above kMaxVectorDim
  // (nowrec/limits.hpp), a non-positive or
  // non-finite half-life, 0 shards, max_interests outside 1..255, recent_window above 65535,
  // a duplicate, empty or non-finite action, negative lateness or ttl, or an encoder whose dim
  // is not `dim`.
  explicit InterestTracker(const InterestTrackerOptions& options);
  InterestTracker(InterestTracker&&) noexcept;
  InterestTracker& operator=(InterestTracker&&) noexcept;
  ~InterestTracker();

  // Applies one event. Returns false, changing nothing, when event.sequence is non-zero and not
  // above the user's last applied sequence: a host replaying its stream after restore() gets
  // each event applied once. An event up to allowed_lateness_seconds older than the user's last
  // one is applied as if it had arrived in order.
  //
  // Throws Error(InvalidArgument) for an empty user id or one longer than kMaxUserIdBytes, a
  // wrong-size or non-finite embedding, an unknown item or action, an empty text or a text
  // without an encoder, an event with no vector, a non-finite weight or value, a weight times
  // embedding norm above kMaxEventMagnitude (nowrec/limits.hpp), or an event older than the
  // allowed lateness; the tracker is then unchanged.
  bool update(const InterestEvent& event);

  // Applies a batch: every event exactly as update() would, the events of one user in their
  // order, with the batch's events grouped by shard so that each user's state is fetched ahead
  // of its turn (faster than one update() per event; see docs/interest_tracker.md). A bad event
  // is skipped and counted, never thrown: the result says how many were applied, duplicates or
  // rejected, and the first rejected event's position and error. `outcomes`, when not empty,
  // receives each event's outcome. Allocates nothing once a thread has run a batch (new users
  // and the encoder's work aside). Throws Error(InvalidArgument) only when `outcomes` is neither
  // empty nor of the batch's size (nothing is applied then). A failure of the item store or the
  // encoder that is not about the event (an Error other than InvalidArgument, or another
  // exception) passes through, with the events of the chunks of 64 before it applied.
  BatchUpdateResult update(std::span<const InterestEvent> events,
                           std::span<UpdateOutcome> outcomes = {});

  // The user's short-term interest decayed to `now` (not normalised); nullopt for an unknown
  // user. Throws Error(InvalidArgument) when `now` is older than the user's last event.
  std::optional<std::vector<float>> short_term_interest(std::string_view user,
                                                        std::int64_t now) const;

  // The user's interests decayed to `now`: short-term, long-term, each cluster (most important
  // first), the predicted one when a model is set and predicts, and the negative-feedback
  // vector. Empty for an unknown user. Throws Error(InvalidArgument) when `now` is older than
  // the user's last event, or when the model returns a wrong or non-finite prediction.
  std::vector<Interest> interests(std::string_view user, std::int64_t now) const;
  // The same into `out`, reusing its elements and their vectors' capacity: a caller that keeps
  // `out` between calls allocates nothing once it has held as many interests (the
  // next-interest model's own work aside).
  void interests(std::string_view user, std::int64_t now, std::vector<Interest>& out) const;
  // The same into the first n elements of `out`, returning n. `out` grows when it holds fewer
  // and never shrinks, so a caller serving many users allocates nothing once `out` has held the
  // most interests any of them has. On an error the elements' contents are unspecified.
  std::size_t fill_interests(std::string_view user, std::int64_t now,
                             std::vector<Interest>& out) const;

  // The user's recent events, oldest first; empty for an unknown user.
  std::vector<RecentEvent> recent_events(std::string_view user) const;
  // The same into `out` (cleared first), reusing its capacity.
  void recent_events(std::string_view user, std::vector<RecentEvent>& out) const;

  std::optional<UserStats> user_stats(std::string_view user) const;
  TrackerStats stats() const;
  std::size_t user_count() const;

  // Bytes one user takes at these options (state, window and table entry; the key's heap
  // allocation when longer than 15 bytes is not counted).
  std::size_t bytes_per_user() const noexcept;

  // Removes everything held for the user (state, interests, recent window; its memory is zeroed
  // before it is freed), so the next snapshot no longer holds them. Returns false for an unknown
  // user. Events of the user that arrive later start a new state.
  bool forget(std::string_view user);

  // Drops the users whose last event is more than ttl_seconds before `now`; returns how many.
  std::size_t expire(std::int64_t now);

  // Writes every user to `path` atomically (a temporary file, fsync, rename, fsync of the
  // folder), with the caller's watermark. Each shard is copied under its lock, so updates go on
  // in the other shards; a host that takes its watermark before calling snapshot() and replays
  // from it with sequences set gets every event applied exactly once. Throws Error(Io).
  void snapshot(const std::filesystem::path& path, std::uint64_t watermark) const;

  // Replaces every user with the snapshot's and returns its watermark. Throws Error(Io) when the
  // file cannot be read and Error(InvalidFormat) when it is truncated, corrupt, of another
  // version or made with other dim, max_interests, recent_window or dtype; the live state is
  // then untouched.
  std::uint64_t restore(const std::filesystem::path& path);

  const InterestTrackerOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nowrec

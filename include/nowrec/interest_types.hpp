// What InterestTracker takes and returns: options, events, interests, statistics and its hooks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nowrec {

class SequenceEncoder;

// How per-user vectors are stored. BF16 halves the memory; arithmetic is always fp32.
enum class StateDtype { F32, BF16 };

// One entry of the action table. An event's weight is
//   event.weight * (weight + value_weight * event.value)
// so a purchase can weigh more than a click and a rating or dwell time can scale it.
struct ActionWeight {
  std::string name;
  float weight = 1.0f;        // negative for skips and dislikes
  float value_weight = 0.0f;  // per unit of the event's optional value
};

// view 0.5, click 1, like 2, add_to_cart 3, purchase 5, share 3, search 4, skip -0.5,
// dislike -2.
std::vector<ActionWeight> default_action_weights();

// Looks up item embeddings by id for events that carry no embedding.
// Thread-safety: lookup() and lookup_many() are called concurrently from every thread that calls
// update().
class ItemStore {
 public:
  virtual ~ItemStore() = default;
  // Copies the item's embedding (out.size() == dim) and returns true, or returns false for an
  // unknown item.
  virtual bool lookup(std::int64_t item, std::span<float> out) const = 0;
  // Copies the embeddings of several items at once, item i's into out[i * dim, (i + 1) * dim)
  // (out.size() must be items.size() * dim), and sets found[i] (an unknown item's values are
  // left unspecified). A batch update asks for its events' items this way; should this throw a
  // nowrec::Error, it asks for each item with lookup() instead. The default calls lookup() for
  // each; a store whose lookups take a lock or miss the cache does better to take the lock once
  // and fetch the next rows while it copies one. Throws Error(InvalidArgument) when found.size()
  // differs from items.size() or out.size() is not a whole number of rows.
  virtual void lookup_many(std::span<const std::int64_t> items, std::span<float> out,
                           std::span<bool> found) const;
};

// One entry of a user's window of recent events, oldest first.
struct RecentEvent {
  std::int64_t item = -1;  // -1: the event had no item (a search)
  std::int64_t timestamp = 0;
  std::string_view action;  // empty when the event named none; points into the tracker's table
};

// A learned next-interest model. When one is configured, interests() asks it for a predicted
// vector from the user's recent window and returns it among the interests.
// Thread-safety: predict() is called concurrently from every thread that calls interests().
class NextInterestModel {
 public:
  virtual ~NextInterestModel() = default;
  // Writes the predicted interest (out.size() == dim) and returns its weight, or returns nullopt
  // when it has nothing to predict. Called without any tracker lock held.
  virtual std::optional<float> predict(std::string_view user, std::span<const RecentEvent> recent,
                                       std::int64_t now, std::span<float> out) const = 0;
};

struct InterestTrackerOptions {
  std::size_t dim = 0;                                // width of item embeddings
  double short_term_half_life_seconds = 1800;         // minutes to hours
  std::size_t shards = 64;                            // independent locks
  double long_term_half_life_seconds = 30 * 86400.0;  // the slow, stable picture
  double interest_half_life_seconds = 7 * 86400.0;    // importance of the K interests
  double negative_half_life_seconds = 86400.0;        // memory of skips and dislikes
  std::size_t max_interests = 4;                      // K distinct interests per user
  float join_min_cosine = 0.5f;                       // nearer than this: join, else new
  std::size_t recent_window = 50;                     // recent events kept per user
  std::vector<ActionWeight> actions = default_action_weights();
  std::int64_t allowed_lateness_seconds = 0;  // how far behind a user's last event one may be
  StateDtype dtype = StateDtype::F32;
  std::size_t max_memory_bytes = 0;  // 0: no cap; else least recently active users are evicted
  // 0: none; else users idle longer than this are dropped, measured from the event being applied
  // (event time: see docs/interest_tracker.md on timestamps far in the future).
  std::int64_t ttl_seconds = 0;
  // Empty: users are kept under their ids. Otherwise a secret of exactly 16 bytes: users are kept
  // (and snapshotted) under the id's keyed SipHash-2-4 (libsodium's crypto_shorthash), so raw ids
  // are never held or written; two ids share a state only on a 64-bit hash collision.
  std::string user_id_key;
  const SequenceEncoder* encoder = nullptr;  // encodes event text; must outlive the tracker
  const ItemStore* item_store = nullptr;     // must outlive the tracker
  const NextInterestModel* next_interest_model = nullptr;  // must outlive the tracker
  // Users the tracker is expected to hold: every shard's table is sized for its share up front,
  // and the state memory of that many users (no more than max_memory_bytes holds) is mapped and
  // touched when the tracker is built, so that new users up to this many never make an update
  // wait for a table to grow or for the system to supply memory (Error(InvalidArgument) when
  // that memory exceeds the machine's). 0: the tables grow as users arrive (doubling; a rehash of
  // 16-byte slots, not of the states), and state memory is mapped 256 KB at a time.
  std::size_t expected_users = 0;
};

// One user action. The vector it contributes is the item embedding (given here, or looked up in
// the item store by `item`), the encoded `text`, or their mean when both are present.
struct InterestEvent {
  std::string_view user;
  std::span<const float> item_embedding;  // empty: look up `item`, or use `text` alone
  float weight = 1.0f;                    // multiplies the action's weight
  std::int64_t timestamp = 0;             // seconds
  std::int64_t item = -1;                 // -1: no item
  std::string_view action;                // empty: the weight alone counts
  std::optional<float> value;             // rating, dwell time, ...
  std::optional<std::string_view> text;   // a search query or comment; must not be empty
  std::uint64_t sequence = 0;  // the host's stream offset; 0: none. See InterestTracker::update
};

// What became of one event of a batch update.
enum class UpdateOutcome : std::uint8_t { Applied, Duplicate, Rejected };

// The totals of a batch update.
struct BatchUpdateResult {
  std::size_t applied = 0;
  std::size_t duplicates = 0;  // sequence already applied
  std::size_t rejected = 0;    // bad input: nothing of it was applied
  // The first rejected event, in the batch's order, and why; meaningful when rejected > 0.
  std::size_t first_rejected = 0;
  std::string first_error;
};

enum class InterestKind { ShortTerm, LongTerm, Cluster, Predicted, Negative };

// A weighted interest decayed to the query time. `vector` has unit length (zero when nothing
// is left); `weight` is the decayed sum of the action weights behind it.
struct Interest {
  InterestKind kind = InterestKind::ShortTerm;
  float weight = 0.0f;
  std::vector<float> vector;
};

struct UserStats {
  std::uint64_t events = 0;  // events applied
  std::int64_t first_timestamp = 0;
  std::int64_t last_timestamp = 0;
  std::size_t interests = 0;  // clusters in use, at most max_interests
  std::uint64_t last_sequence = 0;
  std::size_t memory_bytes = 0;  // everything this user holds, hash-table entry included
};

struct TrackerStats {
  std::size_t users = 0;
  std::uint64_t events_applied = 0;
  std::uint64_t events_rejected = 0;   // bad input
  std::uint64_t events_duplicate = 0;  // sequence already applied
  std::uint64_t users_evicted = 0;     // by the memory cap
  std::uint64_t users_expired = 0;     // by the time-to-live
  std::uint64_t users_forgotten = 0;   // by forget()
  std::size_t memory_bytes = 0;        // all users
  // Memory mapped for users' state blocks and table entries, in use or free: the expected_users
  // reservation and the memory of users who left stay mapped for the users who come next.
  std::size_t mapped_state_bytes = 0;
};

}  // namespace nowrec

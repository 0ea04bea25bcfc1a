// A bounded selection of the best candidates seen, ordered by score then id.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nowrec::ranker {

struct Candidate {
  float score;
  std::int64_t id;
  std::uint32_t segment;
  std::uint32_t row;
};

// Higher score first; equal scores: the smaller id first.
inline bool ranks_before(const Candidate& a, const Candidate& b) noexcept {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

// Keeps the best `capacity` candidates pushed so far in a heap whose front is the worst kept,
// so the common case (a score below that) costs one comparison.
//
// Thread-safety: none; each scanning thread has its own.
class TopK {
 public:
  TopK() = default;
  explicit TopK(std::size_t capacity) { reset(capacity); }

  // Empties it for a new selection of `capacity`, keeping its storage, so a TopK reused across
  // calls stops allocating once it has held the largest capacity asked of it.
  void reset(std::size_t capacity) {
    capacity_ = capacity;
    heap_.clear();
    heap_.reserve(capacity);
  }

  bool full() const noexcept { return heap_.size() >= capacity_; }
  // The lowest score kept; only when full().
  float worst_score() const noexcept { return heap_.front().score; }
  // A NaN score (only overflowing products make one) never enters: it would break the heap's
  // order, and with it worst_score().
  bool admits(float score, std::int64_t id) const noexcept {
    if (heap_.size() < capacity_) return !std::isnan(score);
    const Candidate& worst = heap_.front();
    return score > worst.score || (score == worst.score && id < worst.id);
  }
  // Only for a candidate that admits() accepted.
  void push(const Candidate& candidate) {
    if (heap_.size() < capacity_) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    } else {
      std::pop_heap(heap_.begin(), heap_.end(), ranks_before);
      heap_.back() = candidate;
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    }
  }
  const std::vector<Candidate>& items() const noexcept { return heap_; }
  std::size_t storage_bytes() const noexcept { return heap_.capacity() * sizeof(Candidate); }

 private:
  std::size_t capacity_ = 0;
  std::vector<Candidate> heap_;
};

}  // namespace nowrec::ranker

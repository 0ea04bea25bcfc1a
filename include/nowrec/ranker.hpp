// Ranker: exact top-k of a catalog of item embeddings against a query vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace nowrec {

struct ScoredItem {
  std::int64_t id = 0;
  float score = 0.0f;
  friend bool operator==(const ScoredItem&, const ScoredItem&) = default;
};

// Scores items by inner product with the query (cosine when both sides are normalised) and
// returns the k best, highest score first, ties broken by the smaller id. The scan runs on the
// active CPU ISA's dot-product kernel; filters, diversity, int8/bf16 storage and the CUDA path
// are not part of this class yet.
//
// Thread-safety: const methods may be called concurrently; add() must not run concurrently with
// any other call.
class Ranker {
 public:
  // Throws Error(InvalidArgument) when dim is 0.
  explicit Ranker(std::size_t dim);

  // Appends items: `vectors` holds ids.size() rows of dim() floats. Throws
  // Error(InvalidArgument) for a size mismatch, a non-finite value (naming the item) or an id
  // already present; on error nothing is added.
  void add(std::span<const std::int64_t> ids, std::span<const float> vectors);

  // Throws Error(InvalidArgument) when the query has the wrong size or a non-finite value, or
  // when k is 0 or larger than size().
  std::vector<ScoredItem> top_k(std::span<const float> query, std::size_t k) const;

  std::size_t dim() const noexcept { return dim_; }
  std::size_t size() const noexcept { return ids_.size(); }

 private:
  std::size_t dim_;
  std::vector<std::int64_t> ids_;
  std::vector<float> vectors_;  // size() x dim_, row-major
  std::unordered_map<std::int64_t, std::size_t> row_of_id_;
};

}  // namespace nowrec

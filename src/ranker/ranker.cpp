// Exact top-k by inner product: one pass over the catalog with a bounded min-heap.
#include "nowrec/ranker.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "cpu/dispatch.hpp"
#include "nowrec/error.hpp"

namespace nowrec {
namespace {

// Orders results best first: higher score, then smaller id.
bool ranks_before(const ScoredItem& a, const ScoredItem& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

}  // namespace

Ranker::Ranker(std::size_t dim) : dim_(dim) {
  if (dim == 0) throw Error(ErrorCode::InvalidArgument, "Ranker: dim must be positive");
}

void Ranker::add(std::span<const std::int64_t> ids, std::span<const float> vectors) {
  if (vectors.size() != ids.size() * dim_) {
    throw Error(ErrorCode::InvalidArgument,
                "Ranker::add: " + std::to_string(ids.size()) + " ids need " +
                    std::to_string(ids.size() * dim_) + " floats (dim " + std::to_string(dim_) +
                    "), got " + std::to_string(vectors.size()));
  }
  std::unordered_map<std::int64_t, std::size_t> batch_rows;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (row_of_id_.contains(ids[i]) || !batch_rows.emplace(ids[i], i).second) {
      throw Error(ErrorCode::InvalidArgument,
                  "Ranker::add: item id " + std::to_string(ids[i]) + " is already present");
    }
    for (std::size_t j = 0; j < dim_; ++j) {
      if (!std::isfinite(vectors[i * dim_ + j])) {
        throw Error(ErrorCode::InvalidArgument,
                    "Ranker::add: item " + std::to_string(ids[i]) +
                        " has a non-finite value at position " + std::to_string(j));
      }
    }
  }
  ids_.reserve(ids_.size() + ids.size());
  vectors_.reserve(vectors_.size() + vectors.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    row_of_id_.emplace(ids[i], ids_.size());
    ids_.push_back(ids[i]);
  }
  vectors_.insert(vectors_.end(), vectors.begin(), vectors.end());
}

std::vector<ScoredItem> Ranker::top_k(std::span<const float> query, std::size_t k) const {
  if (query.size() != dim_) {
    throw Error(ErrorCode::InvalidArgument, "Ranker::top_k: query has " +
                                                std::to_string(query.size()) +
                                                " values, expected dim " + std::to_string(dim_));
  }
  for (std::size_t j = 0; j < dim_; ++j) {
    if (!std::isfinite(query[j])) {
      throw Error(ErrorCode::InvalidArgument,
                  "Ranker::top_k: query has a non-finite value at position " + std::to_string(j));
    }
  }
  if (k == 0 || k > size()) {
    throw Error(ErrorCode::InvalidArgument, "Ranker::top_k: k = " + std::to_string(k) +
                                                " must be in [1, " + std::to_string(size()) + "]");
  }
  const auto& kernels = cpu::kernels();
  // heap.front() is the worst of the best k so far.
  std::vector<ScoredItem> heap;
  heap.reserve(k);
  for (std::size_t row = 0; row < ids_.size(); ++row) {
    const ScoredItem item{ids_[row], kernels.dot(query.data(), vectors_.data() + row * dim_, dim_)};
    if (heap.size() < k) {
      heap.push_back(item);
      std::push_heap(heap.begin(), heap.end(), ranks_before);
    } else if (ranks_before(item, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), ranks_before);
      heap.back() = item;
      std::push_heap(heap.begin(), heap.end(), ranks_before);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), ranks_before);
  return heap;
}

}  // namespace nowrec

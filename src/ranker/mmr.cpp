// Maximal marginal relevance: trades a little score for items unlike those already picked.
#include <algorithm>
#include <limits>

#include "cpu/dispatch.hpp"
#include "ranker/scan.hpp"

namespace nowrec::ranker {

std::span<const Candidate> select_mmr(const Snapshot& snapshot,
                                      std::span<const Candidate> candidates, std::size_t k,
                                      float lambda, MmrScratch& scratch) {
  const std::size_t dim = snapshot.dim;
  const std::size_t n = candidates.size();
  // Every value is decoded before it is read, so what the buffer held before does not matter.
  std::vector<float>& vectors = scratch.vectors;
  vectors.resize(n * dim);
  for (std::size_t i = 0; i < n; ++i) {
    decode_row(snapshot.storage, *snapshot.segments[candidates[i].segment], candidates[i].row, dim,
               vectors.data() + i * dim);
  }
  const auto& kernels = cpu::kernels();
  // Highest similarity of each candidate to the picks so far; nothing picked yet counts as 0.
  std::vector<float>& max_similarity = scratch.max_similarity;
  max_similarity.assign(n, 0.0f);
  std::vector<std::uint8_t>& picked = scratch.picked;
  picked.assign(n, 0);
  std::vector<Candidate>& chosen = scratch.chosen;
  chosen.clear();
  chosen.reserve(std::min(k, n));
  while (chosen.size() < k && chosen.size() < n) {
    std::size_t best = n;
    float best_value = -std::numeric_limits<float>::infinity();
    // Candidates come best first, so a strict > keeps ties in score-then-id order.
    for (std::size_t i = 0; i < n; ++i) {
      if (picked[i] != 0) continue;
      const float value = lambda * candidates[i].score - (1.0f - lambda) * max_similarity[i];
      if (best == n || value > best_value) {
        best = i;
        best_value = value;
      }
    }
    picked[best] = 1;
    chosen.push_back(candidates[best]);
    const float* picked_vector = vectors.data() + best * dim;
    for (std::size_t i = 0; i < n; ++i) {
      if (picked[i] != 0) continue;
      const float similarity = kernels.dot(picked_vector, vectors.data() + i * dim, dim);
      if (chosen.size() == 1 || similarity > max_similarity[i]) max_similarity[i] = similarity;
    }
  }
  return chosen;
}

}  // namespace nowrec::ranker

// Maximal marginal relevance: trades a little score for items unlike those already picked.
#include <limits>

#include "cpu/dispatch.hpp"
#include "ranker/scan.hpp"

namespace nowrec::ranker {

std::vector<Candidate> select_mmr(const Snapshot& snapshot,
                                  const std::vector<Candidate>& candidates, std::size_t k,
                                  float lambda) {
  const std::size_t dim = snapshot.dim;
  const std::size_t n = candidates.size();
  std::vector<float> vectors(n * dim);
  for (std::size_t i = 0; i < n; ++i) {
    decode_row(snapshot.storage, *snapshot.segments[candidates[i].segment], candidates[i].row, dim,
               vectors.data() + i * dim);
  }
  const auto& kernels = cpu::kernels();
  // Highest similarity of each candidate to the picks so far; nothing picked yet counts as 0.
  std::vector<float> max_similarity(n, 0.0f);
  std::vector<bool> picked(n, false);
  std::vector<Candidate> chosen;
  chosen.reserve(std::min(k, n));
  while (chosen.size() < k && chosen.size() < n) {
    std::size_t best = n;
    float best_value = -std::numeric_limits<float>::infinity();
    // Candidates come best first, so a strict > keeps ties in score-then-id order.
    for (std::size_t i = 0; i < n; ++i) {
      if (picked[i]) continue;
      const float value = lambda * candidates[i].score - (1.0f - lambda) * max_similarity[i];
      if (best == n || value > best_value) {
        best = i;
        best_value = value;
      }
    }
    picked[best] = true;
    chosen.push_back(candidates[best]);
    const float* picked_vector = vectors.data() + best * dim;
    for (std::size_t i = 0; i < n; ++i) {
      if (picked[i]) continue;
      const float similarity = kernels.dot(picked_vector, vectors.data() + i * dim, dim);
      if (chosen.size() == 1 || similarity > max_similarity[i]) max_similarity[i] = similarity;
    }
  }
  return chosen;
}

}  // namespace nowrec::ranker

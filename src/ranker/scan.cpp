// The catalog scan: blocks of rows scored by a per-ISA kernel (few queries) or a oneDNN sgemm
// (many), with each thread's top-k selection fused into its pass over the block's scores.
//
// The sgemm is dnnl_sgemm on the rows as stored: encoder::OnednnMatmul reorders a fixed weight
// at construction, which would copy the whole catalog and go stale with every write.
#include "ranker/scan.hpp"

#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "cpu/dispatch.hpp"

namespace nowrec::ranker {
namespace {

// Rows scored per step: the block's scores stay in L1 and, on the few-query path, its rows in
// L2 while each group of queries the kernel scores together passes over them.
constexpr std::size_t kFusedBlockRows = 512;
constexpr std::size_t kMatmulBlockRows = 1024;
// The score buffer of one matmul block is capped at this many floats (16 MiB).
constexpr std::size_t kMatmulMaxScores = std::size_t(1) << 22;

bool contains(std::span<const std::int64_t> sorted_ids, std::int64_t id) {
  return std::binary_search(sorted_ids.begin(), sorted_ids.end(), id);
}

// The entry for `id` in a boost table sorted by id, or null.
const ItemBoost* find_boost(std::span<const ItemBoost> sorted_boosts, std::int64_t id) {
  const auto found = std::lower_bound(
      sorted_boosts.begin(), sorted_boosts.end(), id,
      [](const ItemBoost& boost, std::int64_t wanted) { return boost.id < wanted; });
  return found != sorted_boosts.end() && found->id == id ? &*found : nullptr;
}

// True when one of n scores is NaN: the one float whose bits, sign cleared, exceed an
// infinity's. No early exit, so that the loop vectorises: it runs over every score of a block,
// with a signed comparison and an OR that SSE2 has.
bool any_nan(const float* scores, std::size_t n) {
  std::int32_t found = 0;
  for (std::size_t r = 0; r < n; ++r) {
    std::int32_t bits;
    std::memcpy(&bits, scores + r, sizeof bits);
    found |= static_cast<std::int32_t>((bits & 0x7FFFFFFF) > 0x7F800000);
  }
  return found != 0;
}

// The larger of two scores, or NaN when either is: an interest scored NaN is not dropped by the
// max over interests (std::max keeps its first argument when either is NaN).
inline float max_or_nan(float a, float b) { return b > a || b != b ? b : a; }

bool passes_filters(const ScanUser& user, const Segment& segment, std::size_t row) {
  if (segment.available[row] == 0) return false;
  const std::int64_t id = segment.ids[row];
  if (!user.exclude.empty() && contains(user.exclude, id)) return false;
  if (!user.allow.empty() && !contains(user.allow, id)) return false;
  if (!user.categories.empty()) {
    for (std::uint32_t category : segment.categories_of(row)) {
      if (std::binary_search(user.categories.begin(), user.categories.end(), category)) {
        return true;
      }
    }
    return false;
  }
  return true;
}

class Scanner {
 public:
  Scanner(const Snapshot& snapshot, const ScanPlan& plan, ScanScratch& scratch)
      : snapshot_(snapshot),
        plan_(plan),
        scratch_(scratch),
        kernels_(cpu::kernels()),
        dim_(snapshot.dim) {
    vector_count_ = plan.vectors.size() / dim_;
    use_matmul_ = vector_count_ >= plan.matmul_min_queries;
    block_rows_ = kFusedBlockRows;
    if (use_matmul_) {
      block_rows_ = std::clamp<std::size_t>(kMatmulMaxScores / vector_count_, 64, kMatmulBlockRows);
    }
    use_bf16_dp_ = !use_matmul_ && snapshot.storage == StorageType::BF16 &&
                   kernels_.score_rows_bf16_dp != nullptr;
    if (use_bf16_dp_) {
      scratch.split_queries.resize(2 * plan.vectors.size());
      for (std::size_t v = 0; v < vector_count_; ++v) {
        split_to_bf16(plan.vectors.data() + v * dim_, dim_,
                      scratch.split_queries.data() + 2 * v * dim_);
      }
    }
    if (!use_matmul_ && snapshot.storage == StorageType::Int8) {
      scratch.int16_queries.resize(plan.vectors.size());
      scratch.query_scales.resize(vector_count_);
      for (std::size_t v = 0; v < vector_count_; ++v) {
        scratch.query_scales[v] = quantize_to_int16(plan.vectors.data() + v * dim_, dim_,
                                                    scratch.int16_queries.data() + v * dim_);
      }
    }
    scratch.segment_starts.clear();
    for (std::size_t s = 0; s < snapshot.segments.size(); ++s) {
      scratch.segment_starts.push_back(total_rows_);
      total_rows_ += snapshot.segments[s]->rows;
    }
    for (const ScanUser& user : plan.users) calibrating_ = calibrating_ || user.calibrate;
    if (calibrating_) {
      scratch.factors.assign(vector_count_, 1.0f);
      store_scores_ = vector_count_ * total_rows_ * sizeof(float) <= kCalibrationScoresBytes;
      if (store_scores_) scratch.calibration_scores.resize(vector_count_ * total_rows_);
    }
    scratch.blocks.clear();
    for (std::size_t s = 0; s < snapshot.segments.size(); ++s) {
      const std::size_t rows = snapshot.segments[s]->rows;
      for (std::size_t first = 0; first < rows; first += block_rows_) {
        scratch.blocks.push_back({std::uint32_t(s), std::uint32_t(first),
                                  std::uint32_t(std::min(block_rows_, rows - first))});
      }
    }
  }

  void run() {
    const std::vector<ScanBlock>& blocks = scratch_.blocks;
    const std::size_t user_count = plan_.users.size();
    const int threads = std::max(1, std::min<int>(plan_.threads, static_cast<int>(blocks.size())));
    // Grown, never shrunk: a TopK or buffer left by an earlier call keeps its storage.
    std::vector<ScanThreadState>& states = scratch_.threads;
    if (states.size() < std::size_t(threads)) states.resize(std::size_t(threads));
    for (int t = 0; t < threads; ++t) {
      ScanThreadState& state = states[std::size_t(t)];
      if (state.best.size() < user_count) state.best.resize(user_count);
      for (std::size_t u = 0; u < user_count; ++u) state.best[u].reset(plan_.keep);
      state.nan.assign(user_count, NanScore{});
      // A block writes every score and combined value it reads first, so what these buffers
      // held before does not matter.
      state.scores.resize(vector_count_ * block_rows_);
      state.combined.resize(block_rows_);
      if (use_matmul_ && snapshot_.storage != StorageType::F32) {
        state.widened.resize(block_rows_ * dim_);
      }
    }
    if (calibrating_) {
      for (int t = 0; t < threads; ++t) {
        states[std::size_t(t)].best_match.assign(vector_count_,
                                                 -std::numeric_limits<float>::infinity());
      }
    }
    pass(Pass::First, threads);
    if (calibrating_) {
      set_factors(threads);
      pass(Pass::Second, threads);
    }
    std::vector<std::vector<Candidate>>& result = scratch_.best;
    if (result.size() < user_count) result.resize(user_count);
    scratch_.nan.assign(user_count, NanScore{});
    for (std::size_t u = 0; u < user_count; ++u) {
      result[u].clear();
      for (int t = 0; t < threads; ++t) {
        const auto& items = states[std::size_t(t)].best[u].items();
        result[u].insert(result[u].end(), items.begin(), items.end());
        const NanScore& nan = states[std::size_t(t)].nan[u];
        if (nan.found) scratch_.nan[u].note(nan.id);
      }
      std::sort(result[u].begin(), result[u].end(), ranks_before);
      if (result[u].size() > plan_.keep) result[u].resize(plan_.keep);
    }
  }

 private:
  // The first pass scores the catalog, ranks the users that need no calibration and finds the
  // calibrated users' best matches; the second ranks the calibrated users.
  enum class Pass { First, Second };

  void pass(Pass which, int threads) {
    const std::vector<ScanBlock>& blocks = scratch_.blocks;
    std::vector<ScanThreadState>& states = scratch_.threads;
    const bool rescore = which == Pass::First || !store_scores_;
    if (threads == 1) {
      // The same blocks in the same order without a parallel region: libgomp would allocate a
      // one-thread team for it on every call.
      for (const ScanBlock& block : blocks) {
        if (rescore) score_block(block, states[0]);
        select_block(block, states[0], which);
      }
      return;
    }
    const auto block_count = static_cast<std::ptrdiff_t>(blocks.size());
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (std::ptrdiff_t b = 0; b < block_count; ++b) {
      ScanThreadState& state = states[omp_get_thread_num()];
      const ScanBlock& block = blocks[std::size_t(b)];
      if (rescore) score_block(block, state);
      select_block(block, state, which);
    }
  }

  // Each calibrated interest's scale: its weight over its best match (the threads' best), or its
  // weight alone when the best match is not above 0.
  void set_factors(int threads) {
    for (const ScanUser& user : plan_.users) {
      if (!user.calibrate) continue;
      for (std::size_t i = 0; i < user.interest_count; ++i) {
        const std::size_t v = user.first_vector + i;
        float best = -std::numeric_limits<float>::infinity();
        for (int t = 0; t < threads; ++t) {
          best = std::max(best, scratch_.threads[std::size_t(t)].best_match[v]);
        }
        const bool positive = best > 0.0f;
        scratch_.factors[v] = positive ? user.weights[i] / best : user.weights[i];
        if (!user.best_matches.empty()) user.best_matches[i] = positive ? best : 1.0f;
      }
    }
  }

  // First pass, calibrated user: raises each interest's best match to the block's best row the
  // filters leave, and saves the block's scores for the second pass.
  void observe_block(const ScanBlock& block, const ScanUser& user, ScanThreadState& state) const {
    const Segment& segment = *snapshot_.segments[block.segment];
    const float* user_scores = state.scores.data() + user.first_vector * block.rows;
    for (std::size_t i = 0; i < user.interest_count; ++i) {
      const float* scores = user_scores + i * block.rows;
      float& best = state.best_match[user.first_vector + i];
      for (std::size_t r = 0; r < block.rows; ++r) {
        // The filters are asked only for rows that would raise the best: rarely, after the
        // first blocks.
        if (scores[r] > best && passes_filters(user, segment, block.first + r)) best = scores[r];
      }
    }
    if (!store_scores_) return;
    const std::size_t vectors = user.interest_count + (user.has_negative ? 1 : 0);
    const std::size_t first_row = scratch_.segment_starts[block.segment] + block.first;
    for (std::size_t j = 0; j < vectors; ++j) {
      std::copy_n(
          user_scores + j * block.rows, block.rows,
          scratch_.calibration_scores.data() + (user.first_vector + j) * total_rows_ + first_row);
    }
  }

  // The user's interest scores of `rows` rows (vector i's at scores + i * stride) combined into
  // one per row: their max, or for a calibrated user each scaled by its factor, then their max
  // or sum.
  void combine_interests(const ScanUser& user, const float* scores, std::size_t stride,
                         std::size_t rows, float* combined) const {
    if (!user.calibrate) {
      std::copy_n(scores, rows, combined);
      for (std::size_t i = 1; i < user.interest_count; ++i) {
        const float* more = scores + i * stride;
        for (std::size_t r = 0; r < rows; ++r) combined[r] = max_or_nan(combined[r], more[r]);
      }
      return;
    }
    const float* factors = scratch_.factors.data() + user.first_vector;
    for (std::size_t r = 0; r < rows; ++r) combined[r] = factors[0] * scores[r];
    for (std::size_t i = 1; i < user.interest_count; ++i) {
      const float* more = scores + i * stride;
      const float factor = factors[i];
      if (user.sum_interests) {
        for (std::size_t r = 0; r < rows; ++r) combined[r] += factor * more[r];
      } else {
        for (std::size_t r = 0; r < rows; ++r) {
          combined[r] = max_or_nan(combined[r], factor * more[r]);
        }
      }
    }
  }

  void score_block(const ScanBlock& block, ScanThreadState& state) const {
    const Segment& segment = *snapshot_.segments[block.segment];
    const std::size_t value_bytes = bytes_per_value(snapshot_.storage);
    const std::byte* rows = segment.vectors + std::size_t(block.first) * dim_ * value_bytes;
    const float* queries = plan_.vectors.data();
    float* scores = state.scores.data();
    if (use_matmul_) {
      const float* dense = reinterpret_cast<const float*>(rows);
      if (snapshot_.storage != StorageType::F32) {
        for (std::size_t r = 0; r < block.rows; ++r) {
          decode_row(snapshot_.storage, segment, block.first + r, dim_,
                     state.widened.data() + r * dim_);
        }
        dense = state.widened.data();
      }
      // Inside the parallel loop oneDNN runs this product on the calling thread alone.
      dnnl_sgemm('N', 'T', dnnl_dim_t(vector_count_), dnnl_dim_t(block.rows), dnnl_dim_t(dim_),
                 1.0f, queries, dnnl_dim_t(dim_), dense, dnnl_dim_t(dim_), 0.0f, scores,
                 dnnl_dim_t(block.rows));
      return;
    }
    switch (snapshot_.storage) {
      case StorageType::F32:
        kernels_.score_rows_f32(queries, vector_count_, reinterpret_cast<const float*>(rows),
                                block.rows, dim_, scores);
        return;
      case StorageType::BF16:
        if (use_bf16_dp_) {
          kernels_.score_rows_bf16_dp(scratch_.split_queries.data(), vector_count_,
                                      reinterpret_cast<const std::uint16_t*>(rows), block.rows,
                                      dim_, scores);
        } else {
          kernels_.score_rows_bf16(queries, vector_count_,
                                   reinterpret_cast<const std::uint16_t*>(rows), block.rows, dim_,
                                   scores);
        }
        return;
      case StorageType::Int8:
        kernels_.score_rows_int8(scratch_.int16_queries.data(), scratch_.query_scales.data(),
                                 vector_count_, reinterpret_cast<const std::int8_t*>(rows),
                                 segment.scales + block.first, block.rows, dim_, scores);
        return;
    }
  }

  void select_block(const ScanBlock& block, ScanThreadState& state, Pass which) const {
    const Segment& segment = *snapshot_.segments[block.segment];
    for (std::size_t u = 0; u < plan_.users.size(); ++u) {
      const ScanUser& user = plan_.users[u];
      if (user.calibrate != (which == Pass::Second)) {
        if (user.calibrate) observe_block(block, user, state);
        continue;
      }
      // A user's vectors' scores for the block: in the thread's buffer, or (second pass) where
      // the first pass saved them.
      const float* user_scores = state.scores.data() + user.first_vector * block.rows;
      std::size_t stride = block.rows;
      if (which == Pass::Second && store_scores_) {
        stride = total_rows_;
        user_scores = scratch_.calibration_scores.data() + user.first_vector * total_rows_ +
                      scratch_.segment_starts[block.segment] + block.first;
      }
      // Priors are added here, after any kernel or matmul, so every scoring path gets them the
      // same way; an index or request without priors skips this pass entirely.
      const bool add_priors = user.prior_weight != 0.0f && segment.priors != nullptr;
      if (user.calibrate || user.interest_count > 1 || user.has_negative || add_priors) {
        float* combined = state.combined.data();
        combine_interests(user, user_scores, stride, block.rows, combined);
        if (user.has_negative) {
          const float* penalty = user_scores + user.interest_count * stride;
          for (std::size_t r = 0; r < block.rows; ++r) combined[r] += penalty[r];
        }
        if (add_priors) {
          const float* priors = segment.priors + block.first;
          for (std::size_t r = 0; r < block.rows; ++r) {
            combined[r] += user.prior_weight * priors[r];
          }
        }
        user_scores = combined;
      }
      TopK& best = state.best[u];
      if (user.boosts.empty()) {
        // TopK never admits a NaN; one pass over the block's scores finds any, rarely.
        if (any_nan(user_scores, block.rows)) {
          note_nan_scores(block, segment, user, user_scores, state.nan[u]);
        }
        select_unboosted(block, segment, user, user_scores, best);
        continue;
      }
      for (std::size_t r = 0; r < block.rows; ++r) {
        const std::size_t row = block.first + r;
        float score = user_scores[r];
        const float bound = score + user.max_boost;
        // A NaN bound (a NaN score, or -inf and +inf) is looked at with the row's own boost.
        if (!std::isnan(bound) && !best.admits(bound, segment.ids[row])) continue;
        if (const ItemBoost* boost = find_boost(user.boosts, segment.ids[row])) {
          score += boost->score;
        }
        if (std::isnan(score)) {
          if (passes_filters(user, segment, row)) state.nan[u].note(segment.ids[row]);
          continue;
        }
        if (!best.admits(score, segment.ids[row])) continue;
        if (!passes_filters(user, segment, row)) continue;
        best.push({score, segment.ids[row], block.segment, std::uint32_t(row)});
      }
    }
  }

  // Notes the smallest id of the block's rows the filters leave whose score is NaN.
  static void note_nan_scores(const ScanBlock& block, const Segment& segment, const ScanUser& user,
                              const float* scores, NanScore& nan) {
    for (std::size_t r = 0; r < block.rows; ++r) {
      const std::size_t row = block.first + r;
      if (std::isnan(scores[r]) && passes_filters(user, segment, row)) nan.note(segment.ids[row]);
    }
  }

  // The selection where scores are final. Once `best` is full, a row can enter only with a score
  // at or above the worst one kept, so 64 rows at a time are first compared with that score at
  // once (which only rises), and the exact test, ties by id and filters run on the few that
  // pass. At batch 64 this pass over every score costs as much as a fifth of the scan otherwise.
  void select_unboosted(const ScanBlock& block, const Segment& segment, const ScanUser& user,
                        const float* scores, TopK& best) const {
    constexpr std::size_t kGroup = 64;
    for (std::size_t begin = 0; begin < block.rows; begin += kGroup) {
      const std::size_t count = std::min(kGroup, block.rows - begin);
      std::uint64_t candidates = ~std::uint64_t{0} >> (kGroup - count);
      if (best.full()) {
        candidates = kernels_.scores_at_least(scores + begin, count, best.worst_score());
      }
      for (; candidates != 0; candidates &= candidates - 1) {
        const std::size_t r = begin + static_cast<std::size_t>(std::countr_zero(candidates));
        const std::size_t row = block.first + r;
        const float score = scores[r];
        if (!best.admits(score, segment.ids[row])) continue;
        if (!passes_filters(user, segment, row)) continue;
        best.push({score, segment.ids[row], block.segment, std::uint32_t(row)});
      }
    }
  }

  const Snapshot& snapshot_;
  const ScanPlan& plan_;
  ScanScratch& scratch_;
  const cpu::KernelTable& kernels_;
  std::size_t dim_;
  std::size_t vector_count_ = 0;
  bool use_matmul_ = false;
  bool use_bf16_dp_ = false;
  std::size_t block_rows_ = kFusedBlockRows;
  std::size_t total_rows_ = 0;
  bool calibrating_ = false;
  bool store_scores_ = false;
};

}  // namespace

void scan(const Snapshot& snapshot, const ScanPlan& plan, ScanScratch& scratch) {
  Scanner(snapshot, plan, scratch).run();
}

}  // namespace nowrec::ranker

// Self-attention for one sequence and head, compiled once per ISA (see
// cmake/NowrecIsaKernels.cmake). The scores of the head never leave a per-thread buffer; keys are
// transposed into the same buffer first so that scores come from broadcast-and-FMA over
// contiguous rows, with no horizontal sums. Queries go kAttentionQueryBlock at a time: one load
// of a key or value block then serves that many FMAs instead of one.
#include "cpu/attention_kernels.hpp"

#include "cpu/simd.hpp"

namespace nowrec::cpu::NOWREC_ISA_NAMESPACE {

using namespace simd;

namespace {

constexpr std::size_t kBlock = kAttentionQueryBlock;
static_assert(kBlock == 4, "the blocked loops below are written out for four queries");

// scores[r][j] = scale * q_r . k_j for `rows` (1 or kBlock) queries and the first `keys` keys;
// keys_t = K^T, and both it and scores have rows of `length` floats.
void block_scores(const float* q, std::size_t row_stride, std::size_t rows, const float* keys_t,
                  std::size_t length, std::size_t keys, std::size_t head_dim, float scale,
                  float* scores) noexcept {
  const vec scale_v = set1(scale);
  for (std::size_t j = 0; j < keys; j += width) {
    const std::size_t count = step_count(j, keys);
    if (rows == kBlock) {
      vec acc0 = zero(), acc1 = zero(), acc2 = zero(), acc3 = zero();
      for (std::size_t c = 0; c < head_dim; ++c) {
        const vec key = load_n(keys_t + c * length + j, count);
        acc0 = fmadd(set1(q[c]), key, acc0);
        acc1 = fmadd(set1(q[row_stride + c]), key, acc1);
        acc2 = fmadd(set1(q[2 * row_stride + c]), key, acc2);
        acc3 = fmadd(set1(q[3 * row_stride + c]), key, acc3);
      }
      store_n(scores + j, mul(acc0, scale_v), count);
      store_n(scores + length + j, mul(acc1, scale_v), count);
      store_n(scores + 2 * length + j, mul(acc2, scale_v), count);
      store_n(scores + 3 * length + j, mul(acc3, scale_v), count);
    } else {
      vec acc = zero();
      for (std::size_t c = 0; c < head_dim; ++c) {
        acc = fmadd(set1(q[c]), load_n(keys_t + c * length + j, count), acc);
      }
      store_n(scores + j, mul(acc, scale_v), count);
    }
  }
}

// scores = exp(scores - max); returns 1 / their sum.
float exponentiate(float* scores, std::size_t length) noexcept {
  const float lowest = -__builtin_huge_valf();
  vec max_v = set1(lowest);
  for (std::size_t j = 0; j < length; j += width) {
    max_v = max(max_v, load_n(scores + j, step_count(j, length), lowest));
  }
  const vec max_score = set1(reduce_max(max_v));
  vec sum = zero();
  for (std::size_t j = 0; j < length; j += width) {
    const std::size_t count = step_count(j, length);
    store_n(scores + j, exp(sub(load_n(scores + j, count), max_score)), count);
    sum = add(sum, load_n(scores + j, count));
  }
  return 1.0f / reduce_add(sum);
}

// out_r = inverse_sum_r * sum_j scores[r][j] v_j for `rows` (1 or kBlock) queries over the first
// `keys` keys; scores has rows of `length` floats.
void block_values(const float* scores, const float* inverse_sums, std::size_t rows, const float* v,
                  std::size_t row_stride, std::size_t length, std::size_t keys,
                  std::size_t head_dim, float* out, std::size_t out_stride) noexcept {
  for (std::size_t c = 0; c < head_dim; c += width) {
    const std::size_t count = step_count(c, head_dim);
    if (rows == kBlock) {
      vec acc0 = zero(), acc1 = zero(), acc2 = zero(), acc3 = zero();
      for (std::size_t j = 0; j < keys; ++j) {
        const vec value = load_n(v + j * row_stride + c, count);
        acc0 = fmadd(set1(scores[j]), value, acc0);
        acc1 = fmadd(set1(scores[length + j]), value, acc1);
        acc2 = fmadd(set1(scores[2 * length + j]), value, acc2);
        acc3 = fmadd(set1(scores[3 * length + j]), value, acc3);
      }
      store_n(out + c, mul(acc0, set1(inverse_sums[0])), count);
      store_n(out + out_stride + c, mul(acc1, set1(inverse_sums[1])), count);
      store_n(out + 2 * out_stride + c, mul(acc2, set1(inverse_sums[2])), count);
      store_n(out + 3 * out_stride + c, mul(acc3, set1(inverse_sums[3])), count);
    } else {
      vec acc = zero();
      for (std::size_t j = 0; j < keys; ++j) {
        acc = fmadd(set1(scores[j]), load_n(v + j * row_stride + c, count), acc);
      }
      store_n(out + c, mul(acc, set1(inverse_sums[0])), count);
    }
  }
}

// Query i sees keys [0, length) or, when causal, [0, i]: each block of queries computes the
// scores its last query sees, and an earlier query's extra scores are zeroed after softmax so
// that the shared value loop skips them at no cost.
void attend(const float* q, const float* k, const float* v, std::size_t row_stride,
            std::size_t length, std::size_t head_dim, float scale, float* scratch, float* out,
            std::size_t out_stride, bool causal) noexcept {
  float* keys_t = scratch;
  float* scores = scratch + head_dim * length;
  for (std::size_t j = 0; j < length; ++j) {
    const float* key = k + j * row_stride;
    for (std::size_t c = 0; c < head_dim; ++c) keys_t[c * length + j] = key[c];
  }
  float inverse_sums[kBlock];
  for (std::size_t i = 0; i < length;) {
    const std::size_t rows = length - i >= kBlock ? kBlock : 1;
    const std::size_t keys = causal ? i + rows : length;
    block_scores(q + i * row_stride, row_stride, rows, keys_t, length, keys, head_dim, scale,
                 scores);
    for (std::size_t r = 0; r < rows; ++r) {
      float* row = scores + r * length;
      const std::size_t seen = causal ? i + r + 1 : length;
      inverse_sums[r] = exponentiate(row, seen);
      for (std::size_t j = seen; j < keys; ++j) row[j] = 0.0f;
    }
    block_values(scores, inverse_sums, rows, v, row_stride, length, keys, head_dim,
                 out + i * out_stride, out_stride);
    i += rows;
  }
}

}  // namespace

void attention_head(const float* q, const float* k, const float* v, std::size_t row_stride,
                    std::size_t length, std::size_t head_dim, float scale, float* scratch,
                    float* out, std::size_t out_stride) noexcept {
  attend(q, k, v, row_stride, length, head_dim, scale, scratch, out, out_stride, false);
}

void causal_attention_head(const float* q, const float* k, const float* v, std::size_t row_stride,
                           std::size_t length, std::size_t head_dim, float scale, float* scratch,
                           float* out, std::size_t out_stride) noexcept {
  attend(q, k, v, row_stride, length, head_dim, scale, scratch, out, out_stride, true);
}

}  // namespace nowrec::cpu::NOWREC_ISA_NAMESPACE

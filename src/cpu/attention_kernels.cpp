// Self-attention for one sequence and head, compiled once per ISA (see
// cmake/NowrecIsaKernels.cmake). The scores of the head never leave a per-thread buffer of
// `length` floats; keys are transposed into the same buffer first so that the scores of a query
// come from broadcast-and-FMA over contiguous rows, with no horizontal sums.
#include "cpu/attention_kernels.hpp"

#include "cpu/simd.hpp"

namespace nowrec::cpu::NOWREC_ISA_NAMESPACE {

using namespace simd;

namespace {

// scores[j] = scale * q . k_j, from keys_t = K^T ([head_dim][length]).
void query_scores(const float* q, const float* keys_t, std::size_t length, std::size_t head_dim,
                  float scale, float* scores) noexcept {
  const vec scale_v = set1(scale);
  for (std::size_t j = 0; j < length; j += width) {
    const std::size_t count = step_count(j, length);
    vec acc = zero();
    for (std::size_t c = 0; c < head_dim; ++c) {
      acc = fmadd(set1(q[c]), load_n(keys_t + c * length + j, count), acc);
    }
    store_n(scores + j, mul(acc, scale_v), count);
  }
}

// scores = exp(scores - max); returns their sum.
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
  return reduce_add(sum);
}

}  // namespace

void attention_head(const float* q, const float* k, const float* v, std::size_t row_stride,
                    std::size_t length, std::size_t head_dim, float scale, float* scratch,
                    float* out, std::size_t out_stride) noexcept {
  float* keys_t = scratch;
  float* scores = scratch + head_dim * length;
  for (std::size_t j = 0; j < length; ++j) {
    const float* key = k + j * row_stride;
    for (std::size_t c = 0; c < head_dim; ++c) keys_t[c * length + j] = key[c];
  }
  for (std::size_t i = 0; i < length; ++i) {
    query_scores(q + i * row_stride, keys_t, length, head_dim, scale, scores);
    const vec inverse_sum = set1(1.0f / exponentiate(scores, length));
    float* out_row = out + i * out_stride;
    for (std::size_t c = 0; c < head_dim; c += width) {
      const std::size_t count = step_count(c, head_dim);
      vec acc = zero();
      for (std::size_t j = 0; j < length; ++j) {
        acc = fmadd(set1(scores[j]), load_n(v + j * row_stride + c, count), acc);
      }
      store_n(out_row + c, mul(acc, inverse_sum), count);
    }
  }
}

}  // namespace nowrec::cpu::NOWREC_ISA_NAMESPACE

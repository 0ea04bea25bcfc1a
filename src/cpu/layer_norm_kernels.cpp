// Layer normalisation kernels, compiled once per ISA (see cmake/NowrecIsaKernels.cmake).
//
// Two passes over the row (mean, then the centred variance) as PyTorch does, rather than one
// pass of sum and sum of squares, which loses digits when the mean is large against the spread.
#include "cpu/layer_norm_kernels.hpp"

#include "cpu/simd.hpp"

namespace nowrec::cpu::NOWREC_ISA_NAMESPACE {

using namespace simd;

namespace {

// Normalises `row` (already summed) into out; row and out may be the same.
void normalize_row(const float* row, const float* gamma, const float* beta, float eps, float* out,
                   std::size_t n) noexcept {
  vec sum = zero();
  std::size_t i = 0;
  for (; i + width <= n; i += width) sum = add(sum, load(row + i));
  float total = reduce_add(sum);
  for (; i < n; ++i) total += row[i];
  const float mean = total / static_cast<float>(n);

  const vec mean_v = set1(mean);
  vec squares = zero();
  i = 0;
  for (; i + width <= n; i += width) {
    const vec d = sub(load(row + i), mean_v);
    squares = fmadd(d, d, squares);
  }
  float variance = reduce_add(squares);
  for (; i < n; ++i) variance += (row[i] - mean) * (row[i] - mean);
  variance /= static_cast<float>(n);

  const float inv_std = 1.0f / __builtin_sqrtf(variance + eps);
  const vec inv_std_v = set1(inv_std);
  i = 0;
  for (; i + width <= n; i += width) {
    const vec normed = mul(sub(load(row + i), mean_v), inv_std_v);
    store(out + i, fmadd(normed, load(gamma + i), load(beta + i)));
  }
  for (; i < n; ++i) out[i] = (row[i] - mean) * inv_std * gamma[i] + beta[i];
}

}  // namespace

void embedding_layer_norm(const float* word, const float* position, const float* token_type,
                          const float* gamma, const float* beta, float eps, float* out,
                          std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + width <= n; i += width) {
    store(out + i, add(add(load(word + i), load(position + i)), load(token_type + i)));
  }
  for (; i < n; ++i) out[i] = word[i] + position[i] + token_type[i];
  normalize_row(out, gamma, beta, eps, out, n);
}

void bias_residual_layer_norm(const float* x, const float* bias, const float* residual,
                              const float* gamma, const float* beta, float eps, float* out,
                              std::size_t n) noexcept {
  // Element i of out is written only after x[i] and residual[i] are read, so either may alias it.
  std::size_t i = 0;
  for (; i + width <= n; i += width) {
    store(out + i, add(add(load(x + i), load(bias + i)), load(residual + i)));
  }
  for (; i < n; ++i) out[i] = x[i] + bias[i] + residual[i];
  normalize_row(out, gamma, beta, eps, out, n);
}

}  // namespace nowrec::cpu::NOWREC_ISA_NAMESPACE

// The kernel table of the active CPU ISA: one dispatch point for every CPU kernel family.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nowrec/cpu_isa.hpp"

namespace nowrec::cpu {

struct KernelTable {
  CpuIsa isa;
  // The copies of the kernels it holds: "scalar", "avx2", "avx512", or "avx512_bf16_vnni" (the
  // AVX-512 table with bf16 state and ranker kernels built for AVX512_BF16 and AVX512_VNNI).
  const char* name;
  float (*dot)(const float* a, const float* b, std::size_t n) noexcept;
  void (*axpy)(float alpha, const float* x, float* y, std::size_t n) noexcept;
  float (*l2_normalize)(float* x, std::size_t n) noexcept;

  // bfloat16 state kernels; see bf16_state_kernels.hpp.
  float (*dot_bf16)(const std::uint16_t* stored, const float* x, std::size_t n) noexcept;
  float (*squared_norm_bf16)(const std::uint16_t* stored, std::size_t n) noexcept;
  float (*axpy_bf16)(float alpha, const float* x, std::uint16_t* stored, std::size_t n) noexcept;
  void (*assign_bf16)(float alpha, const float* x, std::uint16_t* stored, std::size_t n) noexcept;
  float (*assign_squared_norm_bf16)(float alpha, const float* x, std::uint16_t* stored,
                                    std::size_t n) noexcept;
  float (*scale_squared_norm_bf16)(float s, std::uint16_t* stored, std::size_t n) noexcept;
  void (*axpy_pair_bf16)(float alpha_a, float alpha_b, const float* x, std::uint16_t* a,
                         std::uint16_t* b, std::size_t n) noexcept;
  void (*dots_bf16)(const std::uint16_t* stored, std::size_t stride, std::size_t count,
                    const float* x, std::size_t n, float* out) noexcept;

  // Encoder kernels; see layer_norm_kernels.hpp, activation_kernels.hpp, attention_kernels.hpp
  // and pooling_kernels.hpp for what each computes.
  void (*embedding_layer_norm)(const float* word, const float* position, const float* token_type,
                               const float* gamma, const float* beta, float eps, float* out,
                               std::size_t n) noexcept;
  void (*bias_residual_layer_norm)(const float* x, const float* bias, const float* residual,
                                   const float* gamma, const float* beta, float eps, float* out,
                                   std::size_t n) noexcept;
  void (*bias_gelu_erf)(float* x, const float* bias, std::size_t n) noexcept;
  void (*bias_gelu_tanh)(float* x, const float* bias, std::size_t n) noexcept;
  void (*exp_values)(const float* x, float* y, std::size_t n) noexcept;
  void (*erf_values)(const float* x, float* y, std::size_t n) noexcept;
  void (*tanh_values)(const float* x, float* y, std::size_t n) noexcept;
  void (*attention_head)(const float* q, const float* k, const float* v, std::size_t row_stride,
                         std::size_t length, std::size_t head_dim, float scale, float* scratch,
                         float* out, std::size_t out_stride) noexcept;
  void (*causal_attention_head)(const float* q, const float* k, const float* v,
                                std::size_t row_stride, std::size_t length, std::size_t head_dim,
                                float scale, float* scratch, float* out,
                                std::size_t out_stride) noexcept;
  void (*sum_rows)(const float* rows, std::size_t count, std::size_t row_stride, std::size_t n,
                   float divisor, float* out) noexcept;
  void (*max_rows)(const float* rows, std::size_t count, std::size_t row_stride, std::size_t n,
                   float* out) noexcept;

  // Ranker kernels; see ranker_kernels.hpp. score_rows_bf16_dp is null but in the
  // avx512_bf16_vnni table.
  void (*score_rows_f32)(const float* queries, std::size_t query_count, const float* rows,
                         std::size_t row_count, std::size_t dim, float* scores) noexcept;
  void (*score_rows_bf16)(const float* queries, std::size_t query_count, const std::uint16_t* rows,
                          std::size_t row_count, std::size_t dim, float* scores) noexcept;
  void (*score_rows_int8)(const std::int16_t* queries, const float* query_scales,
                          std::size_t query_count, const std::int8_t* rows, const float* row_scales,
                          std::size_t row_count, std::size_t dim, float* scores) noexcept;
  void (*widen_bf16)(const std::uint16_t* in, std::size_t n, float* out) noexcept;
  void (*widen_int8)(const std::int8_t* in, float scale, std::size_t n, float* out) noexcept;
  std::uint64_t (*scores_at_least)(const float* scores, std::size_t n, float threshold) noexcept;
  void (*score_rows_bf16_dp)(const std::uint16_t* split_queries, std::size_t query_count,
                             const std::uint16_t* rows, std::size_t row_count, std::size_t dim,
                             float* scores) noexcept;
};

// Whether this CPU runs AVX512_BF16 and AVX512_VNNI, as every CPU with the first does (the
// avx512_bf16_vnni kernels need both, and AVX-512 itself: cpu_supports(CpuIsa::Avx512)); checked
// once with CPUID.
bool cpu_has_avx512_bf16_vnni() noexcept;

// The variant NOWREC_CPU_ISA's value asks for (null or empty: the best supported; the name of a
// table, "avx512_bf16_vnni", asks for its ISA). Throws Error(InvalidArgument) for an unknown
// name or a variant this CPU cannot run.
CpuIsa choose_cpu_isa(const char* requested);

// The table for one variant; for AVX-512, the avx512_bf16_vnni table where the CPU has both
// extensions.
const KernelTable& kernels_for(CpuIsa isa) noexcept;
// The table NOWREC_CPU_ISA's value asks for: that of choose_cpu_isa(requested), but "avx512"
// names the plain AVX-512 table even where the CPU could run avx512_bf16_vnni. Throws as
// choose_cpu_isa does.
const KernelTable& choose_kernels(const char* requested);
// Every table this CPU can run, the scalar reference first: tests compare each with it.
std::vector<const KernelTable*> runnable_kernel_tables();
// The table NOWREC_CPU_ISA asks for (choose_kernels), chosen once; its isa is active_cpu_isa().
const KernelTable& kernels();

}  // namespace nowrec::cpu

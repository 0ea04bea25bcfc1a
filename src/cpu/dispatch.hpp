// The kernel table of the active CPU ISA: one dispatch point for every CPU kernel family.
#pragma once

#include <cstddef>

#include "nowrec/cpu_isa.hpp"

namespace nowrec::cpu {

struct KernelTable {
  CpuIsa isa;
  float (*dot)(const float* a, const float* b, std::size_t n) noexcept;
  void (*axpy)(float alpha, const float* x, float* y, std::size_t n) noexcept;
  float (*l2_normalize)(float* x, std::size_t n) noexcept;

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
  void (*sum_rows)(const float* rows, std::size_t count, std::size_t row_stride, std::size_t n,
                   float divisor, float* out) noexcept;
  void (*max_rows)(const float* rows, std::size_t count, std::size_t row_stride, std::size_t n,
                   float* out) noexcept;
};

// The variant NOWREC_CPU_ISA's value asks for (null or empty: the best supported). Throws
// Error(InvalidArgument) for an unknown name or a variant this CPU cannot run.
CpuIsa choose_cpu_isa(const char* requested);

// The table for one variant (tests compare variants against the scalar reference).
const KernelTable& kernels_for(CpuIsa isa) noexcept;
// The table for active_cpu_isa().
const KernelTable& kernels();

}  // namespace nowrec::cpu

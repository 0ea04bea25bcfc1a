// Builds the per-ISA kernel tables and hands out the active one.
#include "cpu/dispatch.hpp"

#include "cpu/activation_kernels.hpp"
#include "cpu/attention_kernels.hpp"
#include "cpu/bf16_state_kernels.hpp"
#include "cpu/layer_norm_kernels.hpp"
#include "cpu/pooling_kernels.hpp"
#include "cpu/ranker_kernels.hpp"
#include "cpu/vector_kernels.hpp"

namespace nowrec::cpu {
namespace {

// ns names the variant of every kernel but the bf16 state kernels, which come from state_ns.
#define NOWREC_KERNEL_TABLE(isa_enum, ns, state_ns, bf16_dp)                                     \
  KernelTable {                                                                                  \
    isa_enum, &ns::dot, &ns::axpy, &ns::l2_normalize, &state_ns::dot_bf16,                       \
        &state_ns::squared_norm_bf16, &state_ns::axpy_bf16, &state_ns::assign_bf16,              \
        &state_ns::assign_squared_norm_bf16, &state_ns::scale_squared_norm_bf16,                 \
        &state_ns::axpy_pair_bf16, &state_ns::dots_bf16, &ns::embedding_layer_norm,              \
        &ns::bias_residual_layer_norm, &ns::bias_gelu_erf, &ns::bias_gelu_tanh, &ns::exp_values, \
        &ns::erf_values, &ns::tanh_values, &ns::attention_head, &ns::causal_attention_head,      \
        &ns::sum_rows, &ns::max_rows, &ns::score_rows_f32, &ns::score_rows_bf16,                 \
        &ns::score_rows_int8, &ns::widen_bf16, &ns::widen_int8, &ns::scores_at_least, bf16_dp    \
  }

const KernelTable scalar_table = NOWREC_KERNEL_TABLE(CpuIsa::Scalar, scalar, scalar, nullptr);
const KernelTable avx2_table = NOWREC_KERNEL_TABLE(CpuIsa::Avx2, avx2, avx2, nullptr);
const KernelTable avx512_table =
    NOWREC_KERNEL_TABLE(CpuIsa::Avx512, avx512, avx512, &avx512::score_rows_bf16_dp);
const KernelTable avx512_bf16_table =
    NOWREC_KERNEL_TABLE(CpuIsa::Avx512, avx512, avx512_bf16, &avx512::score_rows_bf16_dp);

#undef NOWREC_KERNEL_TABLE

}  // namespace

const KernelTable& kernels_for(CpuIsa isa, bool with_avx512_bf16) noexcept {
  switch (isa) {
    case CpuIsa::Avx512:
      return with_avx512_bf16 ? avx512_bf16_table : avx512_table;
    case CpuIsa::Avx2:
      return avx2_table;
    case CpuIsa::Scalar:
      break;
  }
  return scalar_table;
}

const KernelTable& kernels_for(CpuIsa isa) noexcept {
  return kernels_for(isa, cpu_has_avx512_bf16());
}

bool cpu_has_avx512_bf16() noexcept {
  static const bool supported = __builtin_cpu_supports("avx512bf16");
  return supported;
}

const KernelTable& kernels() {
  static const KernelTable& active = kernels_for(active_cpu_isa());
  return active;
}

}  // namespace nowrec::cpu

// Builds the per-ISA kernel tables and hands out the active one.
#include "cpu/dispatch.hpp"

#include <cstdlib>
#include <string_view>
#include <vector>

#include "cpu/activation_kernels.hpp"
#include "cpu/attention_kernels.hpp"
#include "cpu/bf16_state_kernels.hpp"
#include "cpu/layer_norm_kernels.hpp"
#include "cpu/pooling_kernels.hpp"
#include "cpu/ranker_kernels.hpp"
#include "cpu/vector_kernels.hpp"

namespace nowrec::cpu {
namespace {

// ns names the copy of the vector and encoder kernels, ext_ns that of the bf16 state and ranker
// kernels: the same copy, or one built for CPU extensions beyond ns.
#define NOWREC_KERNEL_TABLE(isa_enum, name, ns, ext_ns, bf16_dp)                                 \
  KernelTable {                                                                                  \
    isa_enum, name, &ns::dot, &ns::axpy, &ns::l2_normalize, &ext_ns::dot_bf16,                   \
        &ext_ns::squared_norm_bf16, &ext_ns::axpy_bf16, &ext_ns::assign_bf16,                    \
        &ext_ns::assign_squared_norm_bf16, &ext_ns::scale_squared_norm_bf16,                     \
        &ext_ns::axpy_pair_bf16, &ext_ns::dots_bf16, &ns::embedding_layer_norm,                  \
        &ns::bias_residual_layer_norm, &ns::bias_gelu_erf, &ns::bias_gelu_tanh, &ns::exp_values, \
        &ns::erf_values, &ns::tanh_values, &ns::attention_head, &ns::causal_attention_head,      \
        &ns::sum_rows, &ns::max_rows, &ext_ns::score_rows_f32, &ext_ns::score_rows_bf16,         \
        &ext_ns::score_rows_int8, &ext_ns::widen_bf16, &ext_ns::widen_int8,                      \
        &ext_ns::scores_at_least, bf16_dp                                                        \
  }

const KernelTable scalar_table =
    NOWREC_KERNEL_TABLE(CpuIsa::Scalar, "scalar", scalar, scalar, nullptr);
const KernelTable avx2_table = NOWREC_KERNEL_TABLE(CpuIsa::Avx2, "avx2", avx2, avx2, nullptr);
const KernelTable avx512_table =
    NOWREC_KERNEL_TABLE(CpuIsa::Avx512, "avx512", avx512, avx512, nullptr);
const KernelTable avx512_bf16_vnni_table =
    NOWREC_KERNEL_TABLE(CpuIsa::Avx512, "avx512_bf16_vnni", avx512, avx512_bf16_vnni,
                        &avx512_bf16_vnni::score_rows_bf16_dp);

#undef NOWREC_KERNEL_TABLE

}  // namespace

bool cpu_has_avx512_bf16_vnni() noexcept {
  static const bool supported =
      __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni");
  return supported;
}

const KernelTable& kernels_for(CpuIsa isa) noexcept {
  switch (isa) {
    case CpuIsa::Avx512:
      return cpu_has_avx512_bf16_vnni() ? avx512_bf16_vnni_table : avx512_table;
    case CpuIsa::Avx2:
      return avx2_table;
    case CpuIsa::Scalar:
      break;
  }
  return scalar_table;
}

const KernelTable& choose_kernels(const char* requested) {
  const CpuIsa isa = choose_cpu_isa(requested);
  if (requested != nullptr && std::string_view(requested) == avx512_table.name) {
    return avx512_table;
  }
  return kernels_for(isa);
}

std::vector<const KernelTable*> runnable_kernel_tables() {
  std::vector<const KernelTable*> tables = {&scalar_table};
  if (cpu_supports(CpuIsa::Avx2)) tables.push_back(&avx2_table);
  if (cpu_supports(CpuIsa::Avx512)) {
    tables.push_back(&avx512_table);
    if (cpu_has_avx512_bf16_vnni()) tables.push_back(&avx512_bf16_vnni_table);
  }
  return tables;
}

}  // namespace nowrec::cpu

namespace nowrec {

std::string_view active_cpu_kernels() { return cpu::kernels().name; }

}  // namespace nowrec

namespace nowrec::cpu {

const KernelTable& kernels() {
  static const KernelTable& active = choose_kernels(std::getenv("NOWREC_CPU_ISA"));
  return active;
}

}  // namespace nowrec::cpu

// Builds the per-ISA kernel tables and hands out the active one.
#include "cpu/dispatch.hpp"

#include "cpu/vector_kernels.hpp"

namespace nowrec::cpu {
namespace {

#define NOWREC_KERNEL_TABLE(isa_enum, ns) \
  KernelTable { isa_enum, &ns::dot, &ns::axpy, &ns::l2_normalize }

const KernelTable scalar_table = NOWREC_KERNEL_TABLE(CpuIsa::Scalar, scalar);
const KernelTable avx2_table = NOWREC_KERNEL_TABLE(CpuIsa::Avx2, avx2);
const KernelTable avx512_table = NOWREC_KERNEL_TABLE(CpuIsa::Avx512, avx512);

#undef NOWREC_KERNEL_TABLE

}  // namespace

const KernelTable& kernels_for(CpuIsa isa) noexcept {
  switch (isa) {
    case CpuIsa::Avx512: return avx512_table;
    case CpuIsa::Avx2: return avx2_table;
    case CpuIsa::Scalar: break;
  }
  return scalar_table;
}

const KernelTable& kernels() {
  static const KernelTable& active = kernels_for(active_cpu_isa());
  return active;
}

}  // namespace nowrec::cpu

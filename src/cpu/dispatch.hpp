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
};

// The variant NOWREC_CPU_ISA's value asks for (null or empty: the best supported). Throws
// Error(InvalidArgument) for an unknown name or a variant this CPU cannot run.
CpuIsa choose_cpu_isa(const char* requested);

// The table for one variant (tests compare variants against the scalar reference).
const KernelTable& kernels_for(CpuIsa isa) noexcept;
// The table for active_cpu_isa().
const KernelTable& kernels();

}  // namespace nowrec::cpu

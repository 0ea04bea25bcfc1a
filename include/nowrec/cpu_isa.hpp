// Which CPU instruction set nowrec's kernels run with, chosen once at run time.
#pragma once

#include <string_view>

namespace nowrec {

// Kernel variants, from slowest to fastest. Scalar is the reference every other path is
// tested against.
enum class CpuIsa {
  Scalar,
  Avx2,    // AVX2 + FMA + F16C
  Avx512,  // AVX-512 F/BW/DQ/VL
};

std::string_view cpu_isa_name(CpuIsa isa) noexcept;

// Whether this CPU (and operating system) can run the variant.
bool cpu_supports(CpuIsa isa) noexcept;

// The best variant this CPU supports, unless the environment variable NOWREC_CPU_ISA
// (scalar, avx2, avx512, avx512_bf16_vnni) asks for another. Chosen on first use and cached. Throws
// Error (InvalidArgument) when NOWREC_CPU_ISA names an unknown variant or one the CPU cannot run.
CpuIsa active_cpu_isa();

// The kernels that active_cpu_isa() runs: its name, or "avx512_bf16_vnni" where AVX-512 kernels
// run on a CPU that also has AVX512_BF16 and AVX512_VNNI (bf16 stores and int8 dots built for
// them) and NOWREC_CPU_ISA does not ask for plain "avx512". Throws as active_cpu_isa() does.
std::string_view active_cpu_kernels();

}  // namespace nowrec

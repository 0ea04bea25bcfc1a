// Run-time choice of the CPU kernel variant: CPU feature detection and NOWREC_CPU_ISA.
#include "nowrec/cpu_isa.hpp"

#include <cstdlib>
#include <string>

#include "cpu/dispatch.hpp"
#include "nowrec/error.hpp"

namespace nowrec {
namespace {

bool os_saves_avx_state(unsigned long long mask) {
  // XGETBV is only valid when the OS set OSXSAVE; callers check that bit first.
  unsigned int eax = 0, edx = 0;
  __asm__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  const unsigned long long xcr0 = (static_cast<unsigned long long>(edx) << 32) | eax;
  return (xcr0 & mask) == mask;
}

bool detect(CpuIsa isa) {
  if (isa == CpuIsa::Scalar) return true;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return false;
  unsigned int eax, ebx, ecx, edx;
  __asm__("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
  const bool osxsave = (ecx >> 27) & 1u;
  const bool f16c = (ecx >> 29) & 1u;
  if (!osxsave || !f16c || !os_saves_avx_state(0x6)) return false;  // SSE + AVX state
  if (isa == CpuIsa::Avx2) return true;
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         os_saves_avx_state(0xE6);  // opmask + upper ZMM state
#else
  return false;
#endif
}

}  // namespace

namespace cpu {

CpuIsa choose_cpu_isa(const char* requested) {
  if (requested == nullptr || *requested == '\0') {
    if (cpu_supports(CpuIsa::Avx512)) return CpuIsa::Avx512;
    if (cpu_supports(CpuIsa::Avx2)) return CpuIsa::Avx2;
    return CpuIsa::Scalar;
  }
  const std::string name(requested);
  if (name == "avx512_bf16_vnni") {
    if (!cpu_supports(CpuIsa::Avx512) || !cpu_has_avx512_bf16_vnni()) {
      throw Error(ErrorCode::InvalidArgument,
                  "NOWREC_CPU_ISA=" + name + ": this CPU cannot run the " + name + " kernels");
    }
    return CpuIsa::Avx512;
  }
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (name == cpu_isa_name(isa)) {
      if (!cpu_supports(isa)) {
        throw Error(ErrorCode::InvalidArgument,
                    "NOWREC_CPU_ISA=" + name + ": this CPU cannot run the " + name + " kernels");
      }
      return isa;
    }
  }
  throw Error(
      ErrorCode::InvalidArgument,
      "NOWREC_CPU_ISA=" + name + ": expected one of scalar, avx2, avx512, avx512_bf16_vnni");
}

}  // namespace cpu

std::string_view cpu_isa_name(CpuIsa isa) noexcept {
  switch (isa) {
    case CpuIsa::Scalar:
      return "scalar";
    case CpuIsa::Avx2:
      return "avx2";
    case CpuIsa::Avx512:
      return "avx512";
  }
  return "unknown";
}

bool cpu_supports(CpuIsa isa) noexcept {
  static const bool avx2 = detect(CpuIsa::Avx2);
  static const bool avx512 = avx2 && detect(CpuIsa::Avx512);
  switch (isa) {
    case CpuIsa::Scalar:
      return true;
    case CpuIsa::Avx2:
      return avx2;
    case CpuIsa::Avx512:
      return avx512;
  }
  return false;
}

CpuIsa active_cpu_isa() {
  // A function-local static retries on the next call if choose() throws.
  static const CpuIsa active = cpu::choose_cpu_isa(std::getenv("NOWREC_CPU_ISA"));
  return active;
}

}  // namespace nowrec

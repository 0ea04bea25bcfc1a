# Compiles CPU kernel files once per instruction set. Each copy sees NOWREC_ISA_NAMESPACE
# (scalar, avx2, avx512, or avx512_bf16_vnni for the extensions below) and defines its functions
# inside nowrec::cpu::<that namespace>; src/cpu/dispatch.cpp picks one at run time. No flag here
# assumes the building machine's CPU.
set(NOWREC_ISA_FLAGS_scalar "")
set(NOWREC_ISA_FLAGS_avx2 -mavx2 -mfma -mf16c)
set(NOWREC_ISA_FLAGS_avx512 -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl)
# AVX-512 with AVX512_BF16 and AVX512_VNNI: every CPU with the first has the second (Cooper Lake,
# Sapphire Rapids, Zen 4 and later).
set(NOWREC_ISA_FLAGS_avx512_bf16_vnni ${NOWREC_ISA_FLAGS_avx512} -mavx512bf16 -mavx512vnni)

# One copy of the files for one ISA, linked into target.
function(nowrec_add_isa_kernel_copy target isa)
  set(lib ${target}_${isa})
  add_library(${lib} OBJECT ${ARGN})
  target_compile_options(${lib} PRIVATE ${NOWREC_ISA_FLAGS_${isa}})
  target_compile_definitions(${lib} PRIVATE NOWREC_ISA_NAMESPACE=${isa})
  target_include_directories(${lib} PRIVATE ${PROJECT_SOURCE_DIR}/include
                                            ${PROJECT_SOURCE_DIR}/src)
  target_sources(${target} PRIVATE $<TARGET_OBJECTS:${lib}>)
endfunction()

# A copy of the files for each CpuIsa.
function(nowrec_add_isa_kernels target)
  foreach(isa scalar avx2 avx512)
    nowrec_add_isa_kernel_copy(${target} ${isa} ${ARGN})
  endforeach()
endfunction()

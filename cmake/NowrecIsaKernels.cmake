# Compiles CPU kernel files once per instruction set. Each copy sees NOWREC_ISA_NAMESPACE
# (scalar, avx2, avx512) and defines its functions inside nowrec::cpu::<that namespace>;
# src/cpu/dispatch.cpp picks one at run time. No flag here assumes the building machine's CPU.
set(NOWREC_ISA_FLAGS_scalar "")
set(NOWREC_ISA_FLAGS_avx2 -mavx2 -mfma -mf16c)
set(NOWREC_ISA_FLAGS_avx512 -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl)

function(nowrec_add_isa_kernels target)
  foreach(isa scalar avx2 avx512)
    set(lib ${target}_${isa})
    add_library(${lib} OBJECT ${ARGN})
    target_compile_options(${lib} PRIVATE ${NOWREC_ISA_FLAGS_${isa}})
    target_compile_definitions(${lib} PRIVATE NOWREC_ISA_NAMESPACE=${isa})
    target_include_directories(${lib} PRIVATE ${PROJECT_SOURCE_DIR}/include
                                              ${PROJECT_SOURCE_DIR}/src)
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:${lib}>)
  endforeach()
endfunction()

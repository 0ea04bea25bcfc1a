# Installs nowrec from BUILD_DIR into a fresh prefix under WORK_DIR, then builds and runs an
# outside project against it twice: through find_package(nowrec) and through pkg-config.
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR MODEL_DIR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_install.cmake: ${var} is not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "command failed (${status}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# find_package(nowrec CONFIG REQUIRED)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/consumer -B ${WORK_DIR}/consumer-build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build)
run(${WORK_DIR}/consumer-build/consumer ${MODEL_DIR})
message(STATUS "find_package consumer: ${last_output}")

# pkg-config
file(GLOB pc_dirs ${prefix}/lib*/pkgconfig ${prefix}/lib/*/pkgconfig)
string(REPLACE ";" ":" pc_path "${pc_dirs}")
set(ENV{PKG_CONFIG_PATH} "${pc_path}")
if(SHARED)
  run(pkg-config --cflags --libs nowrec)
else()
  run(pkg-config --static --cflags --libs nowrec)
endif()
string(STRIP "${last_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} ${SOURCE_DIR}/consumer/main.cpp -o ${WORK_DIR}/consumer-pkgconfig ${flags})
file(GLOB libdirs ${prefix}/lib*)
string(REPLACE ";" ":" ld_path "${libdirs}")
set(ENV{LD_LIBRARY_PATH} "${ld_path}")
run(${WORK_DIR}/consumer-pkgconfig ${MODEL_DIR})
message(STATUS "pkg-config consumer: ${last_output}")

# Installs the library, its headers, a CMake package (nowrec::nowrec) and a pkg-config file.
include(CMakePackageConfigHelpers)

set(NOWREC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/nowrec)

install(TARGETS nowrec EXPORT nowrecTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(NOWREC_KAFKA_ENABLED)
  install(TARGETS nowrec_kafka EXPORT nowrecTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/nowrec DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
else()
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/nowrec DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          PATTERN kafka_worker.hpp EXCLUDE)
endif()
install(FILES ${PROJECT_BINARY_DIR}/include/nowrec/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nowrec)

install(EXPORT nowrecTargets NAMESPACE nowrec:: DESTINATION ${NOWREC_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nowrecConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/nowrecConfig.cmake
                              INSTALL_DESTINATION ${NOWREC_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nowrecConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nowrecConfig.cmake ${PROJECT_BINARY_DIR}/nowrecConfigVersion.cmake
        DESTINATION ${NOWREC_INSTALL_CMAKEDIR})

# pkg-config: a static build also needs the private dependencies on the link line.
set(NOWREC_PC_REQUIRES_PRIVATE "libutf8proc sentencepiece libsodium")
set(NOWREC_PC_LIBS_PRIVATE "-ldnnl -lpthread")
# The encoder's own OpenMP loops call the OpenMP runtime (libgomp with g++, libomp with clang).
foreach(lib ${OpenMP_CXX_LIB_NAMES})
  if(NOT lib STREQUAL "pthread")
    string(APPEND NOWREC_PC_LIBS_PRIVATE " -l${lib}")
  endif()
endforeach()
if(NOWREC_CUDA_ENABLED)
  string(APPEND NOWREC_PC_LIBS_PRIVATE " -L${CUDAToolkit_LIBRARY_DIR} -lcudart_static -lcublasLt -ldl -lrt")
  set(NOWREC_PC_CFLAGS "-DNOWREC_WITH_CUDA=1")
else()
  set(NOWREC_PC_CFLAGS "-DNOWREC_WITH_CUDA=0")
endif()
# Relocatable: the prefix is found from the .pc file's own folder, so `cmake --install --prefix`
# anywhere gives a working file.
file(RELATIVE_PATH NOWREC_PC_PREFIX_FROM_PCFILEDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig"
     "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/nowrec.pc.in ${PROJECT_BINARY_DIR}/nowrec.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nowrec.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

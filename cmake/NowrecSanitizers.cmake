# Applies NOWREC_SANITIZE (e.g. "address,undefined") to every C/C++ target of the build.
if(NOWREC_SANITIZE)
  add_compile_options(
    "$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=${NOWREC_SANITIZE};-fno-omit-frame-pointer;-fno-sanitize-recover=all>")
  add_link_options(-fsanitize=${NOWREC_SANITIZE})
endif()

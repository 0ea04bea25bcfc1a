# Finds what nowrec builds against; all of it comes from Debian's packages.
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 CONFIG REQUIRED)
find_package(dnnl CONFIG REQUIRED)
# Debian's oneDNN runs on OpenMP; the encoder's own loops share its thread pool.
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(PkgConfig REQUIRED)
pkg_check_modules(NOWREC_UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(NOWREC_SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# Keyed hashing of user ids (SipHash-2-4).
pkg_check_modules(NOWREC_SODIUM REQUIRED IMPORTED_TARGET libsodium)

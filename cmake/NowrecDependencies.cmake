# Finds what nowrec builds against; all of it comes from Debian's packages.
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 CONFIG REQUIRED)
find_package(dnnl CONFIG REQUIRED)
# Debian's oneDNN runs on OpenMP; the encoder's own loops share its thread pool.
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(PkgConfig REQUIRED)
# Boost's open-addressing hash map (header-only; Debian: libboost1.81-dev).
find_package(Boost 1.81 CONFIG REQUIRED)
pkg_check_modules(NOWREC_UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(NOWREC_SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# Keyed hashing of user ids (SipHash-2-4).
pkg_check_modules(NOWREC_SODIUM REQUIRED IMPORTED_TARGET libsodium)

# nowrec::kafka, the Kafka consumer-group worker, needs librdkafka (Debian: librdkafka-dev).
set(NOWREC_WITH_KAFKA AUTO CACHE STRING
    "Build nowrec::kafka, the Kafka worker: AUTO (when librdkafka is found), ON or OFF")
set_property(CACHE NOWREC_WITH_KAFKA PROPERTY STRINGS AUTO ON OFF)
set(NOWREC_KAFKA_ENABLED OFF)
if(NOT NOWREC_WITH_KAFKA STREQUAL "OFF")
  pkg_check_modules(NOWREC_RDKAFKA IMPORTED_TARGET rdkafka>=1.6)
  if(NOWREC_RDKAFKA_FOUND)
    set(NOWREC_KAFKA_ENABLED ON)
  elseif(NOWREC_WITH_KAFKA STREQUAL "ON")
    message(FATAL_ERROR "NOWREC_WITH_KAFKA=ON but librdkafka (pkg-config rdkafka) was not found")
  endif()
endif()
message(STATUS "nowrec: Kafka worker ${NOWREC_KAFKA_ENABLED}")

// The CUDA path: a clean "no CUDA device" without a GPU, real kernels with one.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "nowrec/device.hpp"
#include "nowrec/error.hpp"
#if NOWREC_WITH_CUDA
#include "cuda/vector_ops.cuh"
#endif

namespace {
const bool has_gpu = nowrec::cuda_device_count() > 0;
}

TEST_CASE("without a usable GPU, CUDA requests fail with a clear error" * doctest::skip(has_gpu)) {
  CHECK(nowrec::cuda_device_count() == 0);
  try {
    nowrec::require_device(nowrec::Device::CUDA);
    FAIL("require_device(CUDA) succeeded without a GPU");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::DeviceUnavailable);
    CHECK(std::string(error.what()).find("no CUDA device") != std::string::npos);
  }
  CHECK_THROWS_AS(nowrec::cuda_device_description(0), nowrec::Error);
  CHECK_NOTHROW(nowrec::require_device(nowrec::Device::CPU));
}

#if NOWREC_WITH_CUDA
TEST_CASE("the GPU L2-normalises rows like the CPU" * doctest::skip(!has_gpu)) {
  MESSAGE(nowrec::cuda_device_description(0));
  const std::size_t rows = 37, cols = 384;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> input(rows * cols);
  for (float& x : input) x = dist(rng);
  std::vector<float> output(rows * cols);
  nowrec::cuda::l2_normalize_rows(input.data(), output.data(), rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    double norm = 0.0;
    for (std::size_t c = 0; c < cols; ++c) norm += double(input[r * cols + c]) * input[r * cols + c];
    norm = std::sqrt(norm);
    for (std::size_t c = 0; c < cols; ++c) {
      CHECK(output[r * cols + c] == doctest::Approx(input[r * cols + c] / norm).epsilon(1e-5));
    }
  }
}
#endif

// Memory does not grow as shapes vary: thousands of random batches through one encoder, watching
// its scratch arenas and the process's resident memory.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <span>
#include <vector>

#include "cpu/dispatch.hpp"
#include "encoder/cpu_encoder.hpp"
#include "nowrec/model_folder.hpp"
#include "test_support.hpp"

namespace {

std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("scratch memory reaches a high-water mark and stays there as batch shapes vary") {
  const auto model =
      nowrec::ModelFolder::load(nowrec::test::fixtures_dir() / "sequence" / "tiny_bert");
  const nowrec::encoder::CpuEncoder encoder(model, 1, nowrec::cpu::kernels());
  const std::size_t dim = encoder.dim(), max_length = encoder.max_length();
  const std::int32_t vocab = 64;
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> batch_size(1, 64), length(1, max_length);
  std::uniform_int_distribution<std::int32_t> id(0, vocab - 1);
  std::normal_distribution<float> value;

  constexpr int kShapes = 2000, kWarm = kShapes / 4;
  std::vector<std::vector<std::int32_t>> ids;
  std::vector<std::vector<float>> vectors;
  std::vector<float> out;
  std::size_t high_water = 0, growths = 0, growths_after_warm = 0, warm_high_water = 0;
  std::size_t warm_resident = 0;
  for (int shape = 0; shape < kShapes; ++shape) {
    const std::size_t batch = batch_size(rng);
    // Every third batch is vector sequences (causal), the rest token ids.
    if (shape % 3 == 2) {
      vectors.resize(batch);
      for (auto& sequence : vectors) {
        sequence.resize(length(rng) * dim);
        for (float& x : sequence) x = value(rng);
      }
      const std::vector<std::span<const float>> spans(vectors.begin(), vectors.end());
      out.resize(batch * dim);
      encoder.encode_vectors(spans, true, out);
    } else {
      ids.resize(batch);
      for (auto& sequence : ids) {
        sequence.resize(length(rng));
        for (std::int32_t& x : sequence) x = id(rng);
      }
      const std::vector<std::span<const std::int32_t>> spans(ids.begin(), ids.end());
      out.resize(batch * dim);
      encoder.encode_ids(spans, out);
    }
    const std::size_t reserved = encoder.scratch_reserved_bytes();
    if (reserved > high_water) {
      ++growths;
      if (shape >= kWarm) ++growths_after_warm;
      high_water = reserved;
    }
    if (shape + 1 == kWarm) {
      warm_high_water = high_water;
      warm_resident = resident_bytes();
    }
  }
  MESSAGE("scratch high-water mark ", high_water, " bytes after ", growths, " growths (",
          growths_after_warm, " after shape ", kWarm, ")");
  // Geometric growth: a handful of steps, and past the warm-up at most a last step or two.
  CHECK(growths <= 24);
  CHECK(growths_after_warm <= 2);
  CHECK(high_water <= warm_high_water * 2);
#if !defined(__SANITIZE_ADDRESS__)
  // (AddressSanitizer's quarantine keeps freed blocks resident, so RSS says nothing there.)
  const std::size_t resident = resident_bytes();
  MESSAGE("resident ", warm_resident, " bytes after warm-up, ", resident, " at the end");
  CHECK(resident <= warm_resident + (16u << 20));
#endif
}

// OnednnMatmul against a plain triple loop in double precision, at row counts that hit every way
// a call is cut into its fixed-row primitives: one power of two, a power of two and an exact
// rest, a rest run over the last rows (recomputing some), 512-row blocks with and without a
// rest; fp32 and bf16, with and without bias, and from a src already in bf16.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "encoder/onednn_matmul.hpp"

using nowrec::encoder::MatmulPrecision;
using nowrec::encoder::OnednnMatmul;

namespace {

// The bfloat16 value nearest x (ties to even), as a float: what a bf16 matmul multiplies.
float to_bf16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof(u));
  const std::uint32_t low = u & 0xFFFFu;
  std::uint32_t high = u >> 16;
  if (low > 0x8000u || (low == 0x8000u && (high & 1u))) ++high;
  const std::uint32_t rounded = high << 16;
  float y;
  std::memcpy(&y, &rounded, sizeof(y));
  return y;
}

std::vector<float> random_values(std::mt19937& rng, std::size_t n) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = uniform(rng);
  return v;
}

// dst = src * weight^T + bias, in double.
std::vector<double> reference(const std::vector<float>& src, const std::vector<float>& weight,
                              const std::vector<float>& bias, std::size_t rows, std::size_t in,
                              std::size_t out) {
  auto value = [](float x) { return static_cast<double>(x); };
  std::vector<double> dst(rows * out);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t o = 0; o < out; ++o) {
      double sum = bias.empty() ? 0.0 : bias[o];
      for (std::size_t i = 0; i < in; ++i)
        sum += value(src[r * in + i]) * value(weight[o * in + i]);
      dst[r * out + o] = sum;
    }
  }
  return dst;
}

}  // namespace

TEST_CASE("OnednnMatmul equals the plain product at every row count it cuts differently") {
  constexpr std::size_t in = 48, out = 40;
  std::mt19937 rng(29);
  const auto weight = random_values(rng, out * in);
  const auto bias_values = random_values(rng, out);
  for (const MatmulPrecision precision : {MatmulPrecision::F32, MatmulPrecision::BF16}) {
    for (const bool with_bias : {false, true}) {
      CAPTURE(static_cast<int>(precision));
      CAPTURE(with_bias);
      const OnednnMatmul matmul(weight.data(), with_bias ? bias_values.data() : nullptr, out, in,
                                precision);
      // BF16 runs bf16 inputs where the CPU can; elsewhere fp32 compute on rounded weights.
      const bool bf16_src = matmul.precision() == MatmulPrecision::BF16;
      const bool bf16_weights = matmul.precision() != MatmulPrecision::F32;
      const std::vector<float> no_bias;
      for (const std::size_t rows :
           {1, 2, 3, 7, 16, 17, 127, 255, 511, 512, 513, 700, 1000, 1537}) {
        CAPTURE(rows);
        const auto src = random_values(rng, rows * in);
        std::vector<float> dst(rows * out, 7.0f);
        std::vector<std::byte> scratchpad(matmul.scratchpad_bytes() + 1);
        std::vector<std::byte> src_buffer(matmul.src_buffer_bytes(rows) + 1);
        matmul.run(src.data(), rows, dst.data(), scratchpad.data(), src_buffer.data());
        // The rounding of src and weights to bf16 is part of the model; compare with both
        // rounded as the matmul rounds them.
        std::vector<float> weight_used = weight, src_used = src;
        if (bf16_weights) {
          for (float& w : weight_used) w = to_bf16(w);
        }
        if (bf16_src) {
          for (float& x : src_used) x = to_bf16(x);
        }
        const auto want =
            reference(src_used, weight_used, with_bias ? bias_values : no_bias, rows, in, out);
        double worst = 0.0;
        for (std::size_t i = 0; i < dst.size(); ++i) {
          worst = std::max(worst, std::abs(dst[i] - want[i]));
        }
        CHECK(worst <= 1e-4);  // fp32 accumulation of 48 products below 1 in size
      }
    }
  }
}

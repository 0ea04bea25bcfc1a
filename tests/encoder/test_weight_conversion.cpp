// F16 and BF16 weights widen to the exact fp32 values, subnormals and infinities included.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "encoder/weight_conversion.hpp"
#include "model/tiny_model.hpp"
#include "nowrec/safetensors.hpp"

namespace {

nowrec::SafetensorsFile file_with(const std::string& dtype, const std::vector<std::uint16_t>& raw) {
  std::string image =
      nowrec::test::safetensors_image({{"t", dtype, {static_cast<std::int64_t>(raw.size())}}});
  const std::size_t data = image.size() - raw.size() * 2;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    image[data + 2 * i] = static_cast<char>(raw[i] & 0xff);
    image[data + 2 * i + 1] = static_cast<char>(raw[i] >> 8);
  }
  return nowrec::SafetensorsFile::from_bytes(std::as_bytes(std::span(image.data(), image.size())));
}

}  // namespace

TEST_CASE("F16 tensors widen exactly") {
  const auto file =
      file_with("F16", {0x3c00, 0xc000, 0x7bff, 0x0001, 0x83ff, 0x7c00, 0x0000, 0x8000, 0x3555});
  const auto values = nowrec::encoder::tensor_to_f32(file.at("t"));
  REQUIRE(values.size() == 9);
  CHECK(values[0] == 1.0f);
  CHECK(values[1] == -2.0f);
  CHECK(values[2] == 65504.0f);
  CHECK(values[3] == std::ldexp(1.0f, -24));      // smallest subnormal
  CHECK(values[4] == -std::ldexp(1023.0f, -24));  // largest subnormal, negative
  CHECK(std::isinf(values[5]));
  CHECK(values[6] == 0.0f);
  CHECK(std::signbit(values[7]));
  CHECK(values[8] == doctest::Approx(1.0 / 3.0).epsilon(1e-3));
}

TEST_CASE("BF16 tensors widen exactly") {
  const auto file = file_with("BF16", {0x3f80, 0xc000, 0x7f80, 0x3eab});
  const auto values = nowrec::encoder::tensor_to_f32(file.at("t"));
  REQUIRE(values.size() == 4);
  CHECK(values[0] == 1.0f);
  CHECK(values[1] == -2.0f);
  CHECK(std::isinf(values[2]));
  CHECK(values[3] == doctest::Approx(1.0 / 3.0).epsilon(1e-2));
}

// SafetensorsFile: reading values back from hand-built files, the real model's weights, and one
// broken file per validation rule.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/safetensors.hpp"
#include "test_support.hpp"

using nowrec::ErrorCode;
using nowrec::SafetensorsFile;
using nowrec::TensorDtype;

namespace {

std::string le_u64(std::uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

// A safetensors image: 8-byte little-endian header length, header, data.
std::string image(const std::string& header, const std::string& data = {}) {
  return le_u64(header.size()) + header + data;
}

std::span<const std::byte> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

SafetensorsFile parse(const std::string& bytes) {
  return SafetensorsFile::from_bytes(as_bytes(bytes));
}

template <typename T>
std::string raw(std::initializer_list<T> values) {
  std::string bytes(values.size() * sizeof(T), '\0');
  std::memcpy(bytes.data(), std::data(values), bytes.size());
  return bytes;
}

template <typename T>
T element(const nowrec::TensorView& tensor, std::size_t index) {
  T value;
  std::memcpy(&value, tensor.bytes.data() + index * sizeof(T), sizeof(T));
  return value;
}

// F16 and BF16 are checked by their bit patterns, decoded here the simple way.
float bf16_to_float(std::uint16_t bits) {
  const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, sizeof value);
  return value;
}

// Asserts that parsing fails with InvalidFormat and that the message holds every fragment.
void check_rejected(const std::string& bytes, std::initializer_list<std::string> fragments) {
  try {
    parse(bytes);
    FAIL("accepted a broken file");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == ErrorCode::InvalidFormat);
    const std::string message = error.what();
    CHECK_MESSAGE(message.find("<memory>") != std::string::npos, message);
    for (const std::string& fragment : fragments) {
      CHECK_MESSAGE(message.find(fragment) != std::string::npos, message, " lacks ", fragment);
    }
  }
}

const std::string kOneTensorData(8, '\0');
std::string one_tensor(const std::string& entry) {
  return image("{\"w\":" + entry + "}", kOneTensorData);
}

}  // namespace

TEST_CASE("safetensors: F32, F16 and BF16 values and metadata read back") {
  // Declared out of offset order, to check that tensors() follows the data.
  const std::string header = R"({"half":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},)"
                             R"("__metadata__":{"format":"pt","note":"x"},)"
                             R"("brain":{"dtype":"BF16","shape":[1,2],"data_offsets":[28,32]},)"
                             R"("full":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";
  const std::string data = raw<float>({1.5f, -2.0f, 3.25f, 0.0f, 1e-3f, 7.0f}) +
                           raw<std::uint16_t>({0x3C00, 0xC000}) +  // F16 1.0, -2.0
                           raw<std::uint16_t>({0x3F80, 0xBF00});   // BF16 1.0, -0.5
  std::string bytes = image(header, data);
  const SafetensorsFile file = parse(bytes);
  bytes.assign(bytes.size(), '\xff');  // from_bytes copied, so the source may change

  REQUIRE(file.tensors().size() == 3);
  CHECK(file.tensors()[0].name == "full");
  CHECK(file.tensors()[1].name == "half");
  CHECK(file.tensors()[2].name == "brain");

  const auto& full = file.at("full");
  CHECK(full.dtype == TensorDtype::F32);
  CHECK(full.shape == std::vector<std::int64_t>{2, 3});
  CHECK(full.element_count() == 6);
  REQUIRE(full.bytes.size() == 24);
  CHECK(element<float>(full, 0) == 1.5f);
  CHECK(element<float>(full, 2) == 3.25f);
  CHECK(element<float>(full, 5) == 7.0f);

  const auto& half = file.at("half");
  CHECK(half.dtype == TensorDtype::F16);
  CHECK(element<std::uint16_t>(half, 0) == 0x3C00);
  CHECK(element<std::uint16_t>(half, 1) == 0xC000);

  const auto& brain = file.at("brain");
  CHECK(brain.dtype == TensorDtype::BF16);
  CHECK(brain.shape == std::vector<std::int64_t>{1, 2});
  CHECK(bf16_to_float(element<std::uint16_t>(brain, 0)) == 1.0f);
  CHECK(bf16_to_float(element<std::uint16_t>(brain, 1)) == -0.5f);

  CHECK(file.metadata().size() == 2);
  CHECK(file.metadata().at("format") == "pt");
  CHECK(file.find("missing") == nullptr);
}

TEST_CASE("safetensors: edge cases the format allows") {
  SUBCASE("empty header, no data") { CHECK(parse(image("{}")).tensors().empty()); }
  SUBCASE("header padded with spaces, as writers align it") {
    CHECK(parse(image(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}   )", "xy"))
              .tensors()
              .size() == 1);
  }
  SUBCASE("zero-sized tensors and scalars") {
    const auto file = parse(image(R"({"empty":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},)"
                                  R"("scalar":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})",
                                  std::string(8, '\1')));
    CHECK(file.at("empty").bytes.empty());
    CHECK(file.at("empty").element_count() == 0);
    CHECK(file.at("scalar").element_count() == 1);
    CHECK(file.tensors()[0].name == "empty");
  }
  SUBCASE("null metadata reads as none, as in the reference") {
    CHECK(parse(image(R"({"__metadata__":null})")).metadata().empty());
  }
  SUBCASE("every dtype has its size") {
    CHECK(nowrec::tensor_dtype_size(TensorDtype::F8_E4M3) == 1);
    CHECK(nowrec::tensor_dtype_size(TensorDtype::F8_E5M2) == 1);
    CHECK(nowrec::tensor_dtype_size(TensorDtype::BOOL) == 1);
    CHECK(nowrec::tensor_dtype_size(TensorDtype::BF16) == 2);
    CHECK(nowrec::tensor_dtype_size(TensorDtype::U32) == 4);
    CHECK(nowrec::tensor_dtype_size(TensorDtype::F64) == 8);
    CHECK(nowrec::tensor_dtype_name(TensorDtype::F8_E5M2) == "F8_E5M2");
    const auto file =
        parse(image(R"({"q":{"dtype":"F8_E4M3","shape":[3],"data_offsets":[0,3]}})", "abc"));
    CHECK(file.at("q").dtype == TensorDtype::F8_E4M3);
  }
}

TEST_CASE("safetensors: at() names the missing tensor") {
  const auto file = parse(image("{}"));
  try {
    file.at("encoder.layer.0.weight");
    FAIL("found a missing tensor");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == ErrorCode::NotFound);
    CHECK(std::string(error.what()).find("encoder.layer.0.weight") != std::string::npos);
  }
}

TEST_CASE("safetensors: open() maps a file and names it in errors") {
  nowrec::test::TempDir dir;
  const auto good = dir.path() / "good.safetensors";
  nowrec::test::write_file(good, image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                       raw<float>({0.25f, -4.0f})));
  const auto file = SafetensorsFile::open(good);
  CHECK(element<float>(file.at("a"), 1) == -4.0f);

  const auto empty = dir.path() / "empty.safetensors";
  nowrec::test::write_file(empty, "");
  try {
    SafetensorsFile::open(empty);
    FAIL("accepted an empty file");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == ErrorCode::InvalidFormat);
    CHECK(std::string(error.what()).find(empty.string()) != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(SafetensorsFile::open(dir.path() / "absent.safetensors"),
                       doctest::Contains("absent.safetensors"), nowrec::Error);
}

TEST_CASE("safetensors: the real model's weights") {
  const auto file = SafetensorsFile::open(nowrec::test::model_dir() / "model.safetensors");
  // Counted with Python's safetensors.safe_open on the same file.
  CHECK(file.tensors().size() == 104);
  CHECK(file.metadata().at("format") == "pt");
  CHECK(file.tensors().front().name == "embeddings.position_ids");
  CHECK(file.tensors().back().name == "pooler.dense.weight");

  const auto& words = file.at("embeddings.word_embeddings.weight");
  CHECK(words.dtype == TensorDtype::F32);
  CHECK(words.shape == std::vector<std::int64_t>{30522, 384});
  CHECK(words.bytes.size() == 30522u * 384u * 4u);
  // Row 101 is [CLS]; values from numpy.
  CHECK(element<float>(words, 101 * 384 + 0) ==
        doctest::Approx(-0.01761939749121666).epsilon(1e-7));
  CHECK(element<float>(words, 101 * 384 + 2) ==
        doctest::Approx(0.047105543315410614).epsilon(1e-7));

  const auto& positions = file.at("embeddings.position_ids");
  CHECK(positions.dtype == TensorDtype::I64);
  CHECK(element<std::int64_t>(positions, 3) == 3);
  CHECK(file.at("encoder.layer.5.intermediate.dense.weight").shape ==
        std::vector<std::int64_t>{1536, 384});
}

TEST_CASE("safetensors: each broken rule is refused and named") {
  SUBCASE("shorter than the length prefix") {
    check_rejected("\x01\x00\x00", {"shorter than the 8-byte header length"});
  }
  SUBCASE("header length above the 100 MB limit") {
    check_rejected(le_u64(100'000'001) + "{}", {"header length 100000001", "exceeds the limit"});
  }
  SUBCASE("header length past the end of the file") {
    check_rejected(le_u64(40) + "{}", {"header length 40", "exceeds the 2 bytes"});
  }
  SUBCASE("header length near 2^64 does not wrap") {
    check_rejected(le_u64(~std::uint64_t{0}) + "{}", {"exceeds the limit"});
  }
  SUBCASE("header is not JSON") { check_rejected(image("{\"a\":"), {"not valid UTF-8 JSON"}); }
  SUBCASE("deeply nested values are described without recursion") {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[)" + deep + R"(],"data_offsets":[0,8]})"),
                   {"tensor 'w'", "non-negative integers, found [[...]]"});
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":)" + deep + "}"),
                   {"tensor 'w'", "field 'data_offsets'", "found [[...]]"});
  }
  SUBCASE("number beyond a double's range") {
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[1e999],"data_offsets":[0,8]})"),
                   {"not valid UTF-8 JSON", "overflow"});
  }
  SUBCASE("header is not UTF-8") {
    check_rejected(image("{\"\xff\xfe\":{}}"), {"not valid UTF-8 JSON"});
  }
  SUBCASE("NUL byte after the JSON, which nlohmann would take for the end") {
    check_rejected(image(std::string("{}\0\0\"", 5)), {"NUL byte at header offset 2"});
  }
  SUBCASE("header starts with a byte-order mark") {
    check_rejected(image("\xEF\xBB\xBF{}"), {"byte-order mark"});
  }
  SUBCASE("header is not an object") {
    check_rejected(image("[1,2]"), {"header must be a JSON object", "array"});
  }
  SUBCASE("entry is not an object") {
    check_rejected(image(R"({"w":[0]})"), {"tensor 'w'", "entry must be a JSON object"});
  }
  SUBCASE("unknown dtype") {
    check_rejected(one_tensor(R"({"dtype":"F4","shape":[2],"data_offsets":[0,8]})"),
                   {"tensor 'w'", "unknown dtype 'F4'"});
  }
  SUBCASE("dtype is not a string") {
    check_rejected(one_tensor(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"),
                   {"tensor 'w'", "field 'dtype' must be a string"});
  }
  SUBCASE("missing fields") {
    check_rejected(one_tensor(R"({"shape":[2],"data_offsets":[0,8]})"),
                   {"tensor 'w'", "missing field 'dtype'"});
    check_rejected(one_tensor(R"({"dtype":"F32","data_offsets":[0,8]})"),
                   {"tensor 'w'", "missing field 'shape'"});
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[2]})"),
                   {"tensor 'w'", "missing field 'data_offsets'"});
  }
  SUBCASE("negative or fractional dimension") {
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"),
                   {"tensor 'w'", "non-negative integers", "-2"});
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"),
                   {"tensor 'w'", "non-negative integers"});
    check_rejected(one_tensor(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"),
                   {"tensor 'w'", "field 'shape' must be an array"});
  }
  SUBCASE("data_offsets not a pair of integers") {
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8,8]})"),
                   {"tensor 'w'", "field 'data_offsets' must be [begin, end]"});
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[2],"data_offsets":[0,-8]})"),
                   {"tensor 'w'", "field 'data_offsets' must be [begin, end]", "[0, -8]"});
  }
  SUBCASE("data_offsets end before they begin") {
    check_rejected(one_tensor(R"({"dtype":"U8","shape":[0],"data_offsets":[8,0]})"),
                   {"tensor 'w'", "[8, 0] end before they begin"});
  }
  SUBCASE("duplicate tensor name") {
    check_rejected(image(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                         R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                         "ab"),
                   {"tensor 'w'", "duplicate tensor name"});
  }
  SUBCASE("duplicate field inside an entry") {
    check_rejected(one_tensor(R"({"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]})"),
                   {"tensor 'w'", "duplicate field 'dtype'"});
  }
  SUBCASE("duplicate metadata") {
    check_rejected(image(R"({"__metadata__":{},"__metadata__":{}})"),
                   {"duplicate entry '__metadata__'"});
  }
  SUBCASE("byte size disagrees with shape and dtype") {
    check_rejected(one_tensor(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"),
                   {"tensor 'w'", "shape [3] of F32 needs 12 bytes", "span 8"});
  }
  SUBCASE("shape product overflows") {
    check_rejected(
        one_tensor(R"({"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]})"),
        {"tensor 'w'", "overflows 64 bits"});
    check_rejected(
        one_tensor(R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]})"),
        {"tensor 'w'", "of F64 overflows 64 bits"});
  }
  SUBCASE("first tensor does not start at 0") {
    check_rejected(image(R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})", "abc"),
                   {"tensor 'w'", "leave a gap", "ends at byte 0"});
  }
  SUBCASE("gap between tensors") {
    check_rejected(image(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                         R"("b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})",
                         "abc"),
                   {"tensor 'b'", "[2, 3] leave a gap"});
  }
  SUBCASE("overlapping tensors") {
    check_rejected(image(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                         R"("b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
                         "abc"),
                   {"tensor 'b'", "overlap tensor 'a'"});
  }
  SUBCASE("data section longer than the tensors") {
    check_rejected(image(R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abc"),
                   {"tensor 'w'", "1 trailing bytes"});
  }
  SUBCASE("data section shorter than the tensors") {
    check_rejected(image(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", "abc"),
                   {"tensor 'w'", "run past the end of the data section", "truncated"});
  }
  SUBCASE("data without tensors") {
    check_rejected(image("{}", "x"), {"lists no tensors", "1 bytes"});
  }
  SUBCASE("metadata that is not a string map") {
    check_rejected(image(R"({"__metadata__":[1]})"), {"'__metadata__' must be an object"});
    check_rejected(image(R"({"__metadata__":{"epoch":3}})"),
                   {"'__metadata__' field 'epoch' must be a string"});
  }
}

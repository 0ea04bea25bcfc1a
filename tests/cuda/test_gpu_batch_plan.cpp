// The CUDA encoder's host-side planning (chunks, graph buckets, packed inputs, arena layout)
// and its fp16/bf16 weight conversion: no GPU needed, so these run everywhere.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <ios>
#include <limits>
#include <random>
#include <vector>

#include "encoder/encoder_front_end.hpp"
#include "encoder/gpu_batch_plan.hpp"
#include "encoder/half_conversion.hpp"
#include "nowrec/error.hpp"

using namespace nowrec::encoder;

namespace {

std::vector<std::vector<std::int32_t>> make_sequences(const std::vector<std::size_t>& lengths) {
  std::vector<std::vector<std::int32_t>> sequences;
  std::int32_t next = 1;
  for (std::size_t length : lengths) {
    std::vector<std::int32_t> ids(length);
    for (auto& id : ids) id = next++;
    sequences.push_back(std::move(ids));
  }
  return sequences;
}

std::vector<std::span<const std::int32_t>> spans(const std::vector<std::vector<std::int32_t>>& v) {
  return {v.begin(), v.end()};
}

PackedSequences packed_ids(const std::vector<std::vector<std::int32_t>>& sequences) {
  PackedSequences batch;
  pack_ids(spans(sequences), batch);
  return batch;
}

std::vector<std::size_t> lengths_of(const std::vector<std::vector<std::int32_t>>& sequences) {
  std::vector<std::size_t> lengths;
  for (const auto& s : sequences) lengths.push_back(s.size());
  return lengths;
}

// fp16 bits to float, written independently of the library's converter.
float f16_to_float(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa), -24);
  if (exponent == 31) {
    return mantissa ? std::numeric_limits<float>::quiet_NaN()
                    : sign * std::numeric_limits<float>::infinity();
  }
  return sign * std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
}

}  // namespace

TEST_CASE("chunks hold at most max_tokens tokens and keep sequences whole and in order") {
  const std::vector<std::size_t> lengths{5, 5, 5, 10, 1, 0, 9, 10};
  const auto boundaries = chunk_boundaries(lengths, 10);
  CHECK(boundaries == std::vector<std::size_t>{0, 2, 3, 4, 7, 8});
  CHECK(chunk_boundaries({}, 10).empty());
  CHECK_THROWS_AS(chunk_boundaries(std::vector<std::size_t>{11}, 10), nowrec::Error);
  // Empty sequences still count against the sequence bound.
  const std::vector<std::size_t> empties(25, 0);
  CHECK(chunk_boundaries(empties, 10) == std::vector<std::size_t>{0, 10, 20, 25});
}

TEST_CASE("graph buckets round up to powers of two within the limits") {
  GpuBatchLimits limits;
  limits.max_tokens = 4096;
  limits.max_graph_tokens = 512;
  limits.max_graph_sequences = 32;
  ForwardShape bucket;
  REQUIRE(choose_graph_bucket(16, 1, limits, bucket));
  CHECK(bucket.tokens == 16);
  CHECK(bucket.sequences == 1);
  CHECK(bucket.tiles == max_attention_tiles(16, 2));
  REQUIRE(choose_graph_bucket(3, 1, limits, bucket));
  CHECK(bucket.tokens == 16);
  REQUIRE(choose_graph_bucket(300, 7, limits, bucket));
  CHECK(bucket.tokens == 512);
  CHECK(bucket.sequences == 8);
  CHECK_FALSE(choose_graph_bucket(513, 7, limits, bucket));
  CHECK_FALSE(choose_graph_bucket(100, 33, limits, bucket));
  CHECK_FALSE(choose_graph_bucket(0, 0, limits, bucket));
  // A bucket never has more sequence rows than the arena plans for (max_tokens): 17 sequences
  // (one of them empty) in 16 tokens would round up to 32 rows.
  limits.max_tokens = 24;
  CHECK_FALSE(choose_graph_bucket(16, 17, limits, bucket));
  REQUIRE(choose_graph_bucket(16, 16, limits, bucket));
  CHECK(bucket.sequences == 16);
}

TEST_CASE("the tile bound holds for every split of the tokens") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t count = 1 + rng() % 40;
    std::vector<std::size_t> lengths(count);
    for (auto& length : lengths) length = rng() % 300;
    const ForwardShape shape = exact_shape(lengths);
    CHECK(shape.tiles <= max_attention_tiles(shape.tokens, shape.sequences));
  }
}

TEST_CASE("packing an exact shape lays sequences end to end with one tile per 64 queries") {
  const auto sequences = make_sequences({3, 130, 1});
  const ForwardShape shape = exact_shape(lengths_of(sequences));
  CHECK(shape.tokens == 134);
  CHECK(shape.tiles == 1 + 3 + 1);
  PackedGpuInputs packed;
  pack_gpu_inputs(packed_ids(sequences), 0, 3, shape, 0, packed);
  CHECK(packed.ids.size() == 134);
  CHECK(packed.ids[3] == sequences[1][0]);
  CHECK(packed.positions[3] == 0);
  CHECK(packed.positions[132] == 129);
  CHECK(packed.sequence_offsets == std::vector<std::int32_t>{0, 3, 133, 134});
  REQUIRE(packed.tiles.size() == 5);
  CHECK(packed.tiles[1].sequence_begin == 3);
  CHECK(packed.tiles[1].sequence_length == 130);
  CHECK(packed.tiles[3].query_begin == 128);
  CHECK(packed.tiles[4].sequence_begin == 133);
}

TEST_CASE("packing into a bucket pads with one self-contained sequence and empty tiles") {
  const auto sequences = make_sequences({5, 6});
  GpuBatchLimits limits;
  ForwardShape bucket;
  REQUIRE(choose_graph_bucket(11, 2, limits, bucket));
  PackedGpuInputs packed;
  pack_gpu_inputs(packed_ids(sequences), 0, 2, bucket, 2, packed);  // RoBERTa-style offset
  CHECK(packed.ids.size() == 16);
  CHECK(packed.ids[11] == 0);
  CHECK(packed.positions[0] == 2);
  CHECK(packed.positions[15] == 2);
  CHECK(packed.sequence_offsets == std::vector<std::int32_t>{0, 5, 11});
  REQUIRE(packed.tiles.size() == bucket.tiles);
  CHECK(packed.tiles[2].sequence_begin == 11);  // the padding sequence
  CHECK(packed.tiles[2].sequence_length == 5);
  for (std::size_t i = 3; i < packed.tiles.size(); ++i) CHECK(packed.tiles[i].sequence_length == 0);

  // A bucket with spare sequence slots gives them length 0.
  const auto three = make_sequences({1, 1, 1});
  REQUIRE(choose_graph_bucket(3, 3, limits, bucket));
  pack_gpu_inputs(packed_ids(three), 0, 3, bucket, 0, packed);
  CHECK(packed.sequence_offsets == std::vector<std::int32_t>{0, 1, 2, 3, 3});

  ForwardShape too_small{4, 1, 1};
  CHECK_THROWS_AS(pack_gpu_inputs(packed_ids(sequences), 0, 2, too_small, 0, packed),
                  nowrec::Error);
}

TEST_CASE("a chunk from the middle of a batch is packed from its own first token") {
  const auto sequences = make_sequences({4, 2, 3, 5});
  const PackedSequences batch = packed_ids(sequences);
  const std::vector<std::size_t> middle{2, 3};
  const ForwardShape shape = exact_shape(middle);
  PackedGpuInputs packed;
  pack_gpu_inputs(batch, 1, 3, shape, 0, packed);
  CHECK(packed.ids == std::vector<std::int32_t>{5, 6, 7, 8, 9});
  CHECK(packed.positions == std::vector<std::int32_t>{0, 1, 0, 1, 2});
  CHECK(packed.sequence_offsets == std::vector<std::int32_t>{0, 2, 5});
  REQUIRE(packed.tiles.size() == 2);
  CHECK(packed.tiles[1].sequence_begin == 2);
  CHECK(packed.tiles[1].sequence_length == 3);
}

TEST_CASE("vector sequences are packed row by row, padded with zero vectors") {
  constexpr std::size_t width = 3;
  const std::vector<float> first{1, 2, 3, 4, 5, 6}, second{7, 8, 9};
  const std::vector<std::span<const float>> sequences{first, second};
  PackedSequences batch;
  pack_vectors(sequences, width, batch);
  REQUIRE(batch.from_vectors);
  GpuBatchLimits limits;
  ForwardShape bucket;
  REQUIRE(choose_graph_bucket(3, 2, limits, bucket));
  bucket.vector_width = width;
  PackedGpuInputs packed;
  pack_gpu_inputs(batch, 0, 2, bucket, 0, packed);
  REQUIRE(packed.vectors.size() == bucket.tokens * width);
  CHECK(packed.vectors[3] == 4.0f);
  CHECK(packed.vectors[8] == 9.0f);
  CHECK(packed.vectors[9] == 0.0f);
  CHECK(packed.sequence_offsets[0] == 0);
  CHECK(packed.sequence_offsets[1] == 2);
  CHECK(packed.sequence_offsets[2] == 3);
  CHECK(packed.positions[2] == 0);
  // The vectors land in their own region of the input layout.
  const GpuInputLayout layout = gpu_input_layout(bucket);
  CHECK(layout.vectors % 16 == 0);
  CHECK(layout.bytes >= layout.vectors + bucket.tokens * width * sizeof(float));
  std::vector<std::byte> bytes(layout.bytes);
  write_gpu_inputs(packed, layout, bytes.data());
  float value = 0.0f;
  std::memcpy(&value, bytes.data() + layout.vectors + 5 * sizeof(float), sizeof(float));
  CHECK(value == 6.0f);
  // A shape for token ids does not take a batch of vectors, nor the other way round.
  ForwardShape ids_shape = bucket;
  ids_shape.vector_width = 0;
  CHECK_THROWS_AS(pack_gpu_inputs(batch, 0, 2, ids_shape, 0, packed), nowrec::Error);
  CHECK_THROWS_AS(pack_gpu_inputs(packed_ids(make_sequences({2, 1})), 0, 2, bucket, 0, packed),
                  nowrec::Error);
}

TEST_CASE("input layout: aligned, disjoint, and written where it says") {
  const auto sequences = make_sequences({7, 64, 65});
  const ForwardShape shape = exact_shape(lengths_of(sequences));
  PackedGpuInputs packed;
  pack_gpu_inputs(packed_ids(sequences), 0, 3, shape, 0, packed);
  const GpuInputLayout layout = gpu_input_layout(shape);
  for (std::size_t offset : {layout.tiles, layout.ids, layout.positions, layout.sequence_offsets}) {
    CHECK(offset % 16 == 0);
  }
  CHECK(layout.ids >= layout.tiles + shape.tiles * sizeof(AttentionTile));
  CHECK(layout.positions >= layout.ids + shape.tokens * 4);
  CHECK(layout.sequence_offsets >= layout.positions + shape.tokens * 4);
  CHECK(layout.bytes >= layout.sequence_offsets + (shape.sequences + 1) * 4);
  std::vector<std::byte> bytes(layout.bytes);
  write_gpu_inputs(packed, layout, bytes.data());
  std::int32_t value = 0;
  std::memcpy(&value, bytes.data() + layout.ids + 4 * 71, 4);
  CHECK(value == packed.ids[71]);
  std::memcpy(&value, bytes.data() + layout.sequence_offsets + 4 * 3, 4);
  CHECK(value == 136);
  AttentionTile tile;
  std::memcpy(&tile, bytes.data() + layout.tiles + 3 * sizeof(AttentionTile), sizeof(tile));
  CHECK(tile.sequence_begin == 71);
  CHECK(tile.query_begin == 64);
}

TEST_CASE("the arena plan gives every region its size, aligned, without overlap") {
  GpuBatchLimits limits;
  limits.max_tokens = 1000;
  const GpuModelDims dims{384, 1536, 2};
  const GpuArenaPlan plan = plan_gpu_arena(dims, limits, 1 << 20);
  const ForwardShape largest = largest_shape(limits, 384);
  struct Region {
    std::size_t offset, bytes;
  };
  const std::vector<Region> regions{
      {plan.hidden_states, 1000 * 384 * 2}, {plan.qkv, 1000 * 3 * 384 * 2},
      {plan.context, 1000 * 384 * 2},       {plan.projected, 1000 * 384 * 2},
      {plan.inner, 1000 * 1536 * 2},        {plan.output, 1000 * 384 * 4},
      {plan.inputs, plan.inputs_bytes},     {plan.gemm_workspace, 1 << 20}};
  for (std::size_t i = 0; i < regions.size(); ++i) {
    CHECK(regions[i].offset % 256 == 0);
    CHECK(regions[i].offset + regions[i].bytes <= plan.total_bytes);
    if (i + 1 < regions.size())
      CHECK(regions[i].offset + regions[i].bytes <= regions[i + 1].offset);
  }
  // Every bucket and every exact shape within the limits fits the planned inputs region.
  CHECK(gpu_input_layout(largest).bytes == plan.inputs_bytes);
  ForwardShape bucket;
  REQUIRE(choose_graph_bucket(500, 64, limits, bucket));
  CHECK(gpu_input_layout(bucket).bytes <= plan.inputs_bytes);
  CHECK_THROWS_AS(plan_gpu_arena({0, 1536, 2}, limits, 0), nowrec::Error);
}

TEST_CASE("fp16 conversion rounds to nearest even and round-trips every finite half") {
  CHECK(float_to_f16_bits(1.0f) == 0x3c00);
  CHECK(float_to_f16_bits(-2.0f) == 0xc000);
  CHECK(float_to_f16_bits(0.1f) == 0x2e66);
  CHECK(float_to_f16_bits(65504.0f) == 0x7bff);
  CHECK(float_to_f16_bits(65519.0f) == 0x7bff);
  CHECK(float_to_f16_bits(65520.0f) == 0x7c00);
  CHECK(float_to_f16_bits(std::ldexp(1.0f, -24)) == 0x0001);
  CHECK(float_to_f16_bits(std::ldexp(1.0f, -25)) == 0x0000);  // tie goes to even (zero)
  CHECK(float_to_f16_bits(std::ldexp(3.0f, -26)) == 0x0001);
  CHECK(float_to_f16_bits(std::ldexp(3.0f, -25)) == 0x0002);  // 1.5 ulp ties up to even 2
  CHECK(float_to_f16_bits(-0.0f) == 0x8000);
  CHECK((float_to_f16_bits(std::numeric_limits<float>::quiet_NaN()) & 0x7fff) > 0x7c00);
  CHECK(float_to_f16_bits(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie to even
  CHECK(float_to_f16_bits(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    const auto bits = static_cast<std::uint16_t>(h);
    if (float_to_f16_bits(f16_to_float(bits)) != bits) {
      FAIL("half 0x" << std::hex << h << " does not round-trip");
    }
  }
}

TEST_CASE("bf16 conversion rounds to nearest even and keeps NaN") {
  CHECK(float_to_bf16_bits(1.0f) == 0x3f80);
  CHECK(float_to_bf16_bits(std::bit_cast<float>(0x3f808000u)) == 0x3f80);
  CHECK(float_to_bf16_bits(std::bit_cast<float>(0x3f818000u)) == 0x3f82);
  CHECK(float_to_bf16_bits(std::bit_cast<float>(0x3f808001u)) == 0x3f81);
  CHECK(float_to_bf16_bits(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK((float_to_bf16_bits(std::numeric_limits<float>::quiet_NaN()) & 0x7fff) > 0x7f80);
  CHECK((float_to_bf16_bits(std::bit_cast<float>(0x7f800001u)) & 0x7fff) > 0x7f80);
}

TEST_CASE("weights beyond fp16's range are refused with the tensor's name") {
  const std::vector<float> values{1.0f, 70000.0f};
  CHECK(to_half_bits(values, HalfKind::BF16, "w").size() == 2);
  try {
    to_half_bits(values, HalfKind::F16, "encoder.layer.0.output.dense.weight");
    FAIL("a value beyond fp16 was accepted");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::InvalidModel);
    CHECK(std::string(error.what()).find("encoder.layer.0.output.dense.weight") !=
          std::string::npos);
  }
}

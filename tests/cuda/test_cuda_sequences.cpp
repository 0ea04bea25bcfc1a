// Every encoder mode on CUDA against the CPU encoder (the reference): vector sequences,
// bidirectional and causal, pooled and per token; per-token states of texts; and the learned
// next-interest model. Without a GPU these skip; the check that CUDA is refused runs in
// test_cuda_encoder.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/tiny_model.hpp"
#include "nowrec/device.hpp"
#include "nowrec/next_interest_model.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

using nowrec::AttentionMask;
using nowrec::Device;
using nowrec::Dtype;
using nowrec::EncoderOptions;
using nowrec::SequenceEncoder;

namespace {

const bool has_gpu = nowrec::cuda_device_count() > 0;

// The shipped next-interest model: a causal BERT over vectors (hidden 128, head size 32).
std::filesystem::path next_interest_dir() {
  return nowrec::test::env_path("NOWREC_TEST_DATA").parent_path() / "models" /
         "next-interest-ml-latest-small-temporal";
}

EncoderOptions cuda_options(Dtype dtype) {
  EncoderOptions options;
  options.device = Device::CUDA;
  options.dtype = dtype;
  return options;
}

// The cosine a half-precision row keeps against its fp32 reference.
double min_cosine(Dtype dtype) { return dtype == Dtype::F16 ? 0.9995 : 0.995; }

double cosine(const float* a, const float* b, std::size_t n) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

// The worst row cosine between two row-major matrices of `dim` columns.
double worst_row_cosine(const std::vector<float>& got, const std::vector<float>& expected,
                        std::size_t dim) {
  REQUIRE(got.size() == expected.size());
  double worst = 1.0;
  for (std::size_t r = 0; r < got.size() / dim; ++r) {
    worst = std::min(worst, cosine(got.data() + r * dim, expected.data() + r * dim, dim));
  }
  return worst;
}

// Sequences of the given lengths of random vectors of `dim` floats, scaled like embeddings.
std::vector<std::vector<float>> random_sequences(const std::vector<std::size_t>& lengths,
                                                 std::size_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  std::vector<std::vector<float>> sequences;
  for (std::size_t length : lengths) {
    std::vector<float> values(length * dim);
    for (float& v : values) v = normal(rng);
    sequences.push_back(std::move(values));
  }
  return sequences;
}

std::vector<std::span<const float>> spans(const std::vector<std::vector<float>>& sequences) {
  return {sequences.begin(), sequences.end()};
}

class MapItemStore final : public nowrec::ItemStore {
 public:
  MapItemStore(std::size_t items, std::size_t dim, unsigned seed) : dim_(dim) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    for (std::size_t id = 1; id <= items; ++id) {
      std::vector<float> row(dim);
      double norm = 0.0;
      for (float& v : row) {
        v = normal(rng);
        norm += double(v) * v;
      }
      for (float& v : row) v = static_cast<float>(v / std::sqrt(norm));
      rows_[static_cast<std::int64_t>(id)] = std::move(row);
    }
  }
  bool lookup(std::int64_t item, std::span<float> out) const override {
    const auto it = rows_.find(item);
    if (it == rows_.end()) return false;
    std::copy(it->second.begin(), it->second.end(), out.begin());
    return true;
  }

 private:
  std::size_t dim_;
  std::unordered_map<std::int64_t, std::vector<float>> rows_;
};

}  // namespace

TEST_CASE("CUDA vector sequences match the CPU: bidirectional and causal, pooled and per token" *
          doctest::skip(!has_gpu)) {
  const SequenceEncoder cpu = SequenceEncoder::load(next_interest_dir(), {.threads = 1});
  const std::size_t dim = cpu.dim();
  // One token, tile edges (64 queries a tile), several tiles, and the model's longest.
  const auto sequences = random_sequences({1, 5, 63, 64, 65, 130, cpu.info().max_length}, dim, 5);
  for (Dtype dtype : {Dtype::F16, Dtype::BF16}) {
    CAPTURE(nowrec::dtype_name(dtype));
    const SequenceEncoder gpu = SequenceEncoder::load(next_interest_dir(), cuda_options(dtype));
    for (AttentionMask mask : {AttentionMask::Bidirectional, AttentionMask::Causal}) {
      CAPTURE(mask == AttentionMask::Causal);
      CHECK(worst_row_cosine(gpu.encode_vectors(spans(sequences), mask),
                             cpu.encode_vectors(spans(sequences), mask), dim) >= min_cosine(dtype));
      const nowrec::TokenStates want = cpu.encode_vectors_tokens(spans(sequences), mask);
      const nowrec::TokenStates got = gpu.encode_vectors_tokens(spans(sequences), mask);
      CHECK(got.offsets == want.offsets);
      CHECK(worst_row_cosine(got.values, want.values, dim) >= min_cosine(dtype));
      // One sequence at a time (graph buckets) gives what the whole batch gave.
      const auto all = spans(sequences);
      const std::vector<float> batch = gpu.encode_vectors(all, mask);
      for (std::size_t s : {std::size_t{0}, std::size_t{4}}) {
        const std::vector<float> alone = gpu.encode_vectors(std::span(all).subspan(s, 1), mask);
        CHECK(cosine(alone.data(), batch.data() + s * dim, dim) >= 0.9999);
      }
    }
  }
}

// The shipped models have heads of 32; BERT-base and most others have heads of 64. A random
// two-layer BERT with two heads of 64: the CPU encodes it everywhere (so the folder is sound),
// and on a GPU the CUDA encoder must agree with it.
TEST_CASE("a BERT with heads of 64: CUDA matches the CPU on vector sequences, both masks") {
  nowrec::test::TempDir dir;
  nlohmann::json config = nowrec::test::tiny_bert_config();
  config["hidden_size"] = 128;
  config["num_attention_heads"] = 2;
  config["intermediate_size"] = 256;
  config["max_position_embeddings"] = 300;
  config["vocab_size"] = 16;
  nowrec::test::write_tiny_model(dir.path(), config, {});
  nowrec::test::write_file(
      dir.path() / "model.safetensors",
      nowrec::test::random_safetensors_image(nowrec::test::tiny_bert_tensors(config), 31));
  const SequenceEncoder cpu = SequenceEncoder::load(dir.path(), {.threads = 1});
  const std::size_t dim = cpu.dim();
  REQUIRE(dim == 128);
  // Tile edges (64 queries a tile), several key blocks, and the longest position.
  const auto sequences = random_sequences({1, 7, 64, 65, 129, 300}, dim, 13);
  for (AttentionMask mask : {AttentionMask::Bidirectional, AttentionMask::Causal}) {
    CAPTURE(mask == AttentionMask::Causal);
    const nowrec::TokenStates want = cpu.encode_vectors_tokens(spans(sequences), mask);
    REQUIRE(want.values.size() == 566 * dim);
    CHECK(std::all_of(want.values.begin(), want.values.end(),
                      [](float v) { return std::isfinite(v); }));
    if (!has_gpu) continue;
    for (Dtype dtype : {Dtype::F16, Dtype::BF16}) {
      CAPTURE(nowrec::dtype_name(dtype));
      const SequenceEncoder gpu = SequenceEncoder::load(dir.path(), cuda_options(dtype));
      const nowrec::TokenStates got = gpu.encode_vectors_tokens(spans(sequences), mask);
      CHECK(got.offsets == want.offsets);
      CHECK(worst_row_cosine(got.values, want.values, dim) >= min_cosine(dtype));
      CHECK(worst_row_cosine(gpu.encode_vectors(spans(sequences), mask),
                             cpu.encode_vectors(spans(sequences), mask), dim) >= min_cosine(dtype));
    }
  }
}

TEST_CASE("CUDA causal attention: a token's state does not depend on later tokens" *
          doctest::skip(!has_gpu)) {
  const SequenceEncoder gpu = SequenceEncoder::load(next_interest_dir(), cuda_options(Dtype::F16));
  const std::size_t dim = gpu.dim();
  auto sequences = random_sequences({150}, dim, 9);
  const nowrec::TokenStates before =
      gpu.encode_vectors_tokens(spans(sequences), AttentionMask::Causal);
  // Change the vectors from token 100 on: tokens 0..99 must keep their states.
  for (std::size_t i = 100 * dim; i < sequences[0].size(); ++i) sequences[0][i] *= -1.5f;
  const nowrec::TokenStates after =
      gpu.encode_vectors_tokens(spans(sequences), AttentionMask::Causal);
  for (std::size_t t = 0; t < 150; ++t) {
    const double c = cosine(before.values.data() + t * dim, after.values.data() + t * dim, dim);
    if (t < 100) {
      REQUIRE(c >= 0.99999);
    } else if (t == 149) {
      CHECK(c < 0.999);  // the change reached the tokens that see it
    }
  }
}

TEST_CASE("CUDA per-token states of texts match the CPU's" * doctest::skip(!has_gpu)) {
  const SequenceEncoder cpu = SequenceEncoder::load(nowrec::test::model_dir(), {.threads = 1});
  const std::vector<std::string_view> texts{
      "a quiet thriller about two brothers", "我 喜欢 吃 饼干", "space opera",
      "an animated film about a family of superheroes who hide their powers"};
  const nowrec::TokenStates want = cpu.encode_tokens(texts);
  for (Dtype dtype : {Dtype::F16, Dtype::BF16}) {
    CAPTURE(nowrec::dtype_name(dtype));
    const SequenceEncoder gpu =
        SequenceEncoder::load(nowrec::test::model_dir(), cuda_options(dtype));
    const nowrec::TokenStates got = gpu.encode_tokens(texts);
    CHECK(got.offsets == want.offsets);
    CHECK(worst_row_cosine(got.values, want.values, cpu.dim()) >= min_cosine(dtype));
  }
}

TEST_CASE("LearnedNextInterestModel on CUDA predicts what it predicts on the CPU" *
          doctest::skip(!has_gpu)) {
  const auto config = nlohmann::json::parse(
      nowrec::test::read_file(next_interest_dir() / "config.json"))["nowrec_next_interest"];
  const std::size_t item_dim = config["text_dim"].get<std::size_t>();
  const std::vector<std::string> actions = config["actions"].get<std::vector<std::string>>();
  const MapItemStore store(400, item_dim, 21);
  const auto cpu =
      nowrec::LearnedNextInterestModel::load(next_interest_dir(), store, item_dim, {.threads = 1});
  std::mt19937 rng(33);
  for (Dtype dtype : {Dtype::F16, Dtype::BF16}) {
    CAPTURE(nowrec::dtype_name(dtype));
    const auto gpu = nowrec::LearnedNextInterestModel::load(next_interest_dir(), store, item_dim,
                                                            cuda_options(dtype));
    for (std::size_t length : {std::size_t{1}, std::size_t{7}, std::size_t{90}, cpu.window() + 5}) {
      CAPTURE(length);
      std::vector<nowrec::RecentEvent> recent;
      std::int64_t timestamp = 1'600'000'000;
      for (std::size_t i = 0; i < length; ++i) {
        timestamp += static_cast<std::int64_t>(rng() % 100000);
        recent.push_back({static_cast<std::int64_t>(1 + rng() % 400), timestamp,
                          actions[rng() % actions.size()]});
      }
      std::vector<float> want(cpu.item_dim()), got(gpu.item_dim(), 7.0f);
      const auto want_weight = cpu.predict("u", recent, timestamp + 60, want);
      const auto got_weight = gpu.predict("u", recent, timestamp + 60, got);
      REQUIRE(want_weight.has_value());
      REQUIRE(got_weight.has_value());
      CHECK(*got_weight == *want_weight);
      CHECK(cosine(got.data(), want.data(), want.size()) >= min_cosine(dtype));
    }
  }
}

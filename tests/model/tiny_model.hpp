// Builds small model folders on disk for tests: a tiny BERT's config, vocabulary and weights.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace nowrec::test {

struct TensorSpec {
  std::string name;
  std::string dtype = "F32";
  std::vector<std::int64_t> shape;
};

inline std::size_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  return 1;
}

// A safetensors image holding zero-filled tensors, laid out in the order given.
inline std::string safetensors_image(const std::vector<TensorSpec>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const TensorSpec& tensor : tensors) {
    std::uint64_t bytes = dtype_bytes(tensor.dtype);
    for (std::int64_t dim : tensor.shape) bytes *= static_cast<std::uint64_t>(dim);
    header[tensor.name] = {{"dtype", tensor.dtype},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  const std::string text = header.dump();
  std::string image(8, '\0');
  for (int i = 0; i < 8; ++i) {
    image[i] = static_cast<char>((static_cast<std::uint64_t>(text.size()) >> (8 * i)) & 0xff);
  }
  return image + text + std::string(offset, '\0');
}

// A safetensors image of fp32 tensors drawn from N(0, spread²), LayerNorm weights from
// N(1, spread²): a random but well-conditioned model for comparing devices.
inline std::string random_safetensors_image(const std::vector<TensorSpec>& tensors, unsigned seed,
                                            float spread = 0.1f) {
  std::string image = safetensors_image(tensors);
  std::size_t data_bytes = 0;  // the tensors' bytes close the image
  for (const TensorSpec& tensor : tensors) {
    REQUIRE(tensor.dtype == "F32");
    std::size_t count = 4;
    for (std::int64_t dim : tensor.shape) count *= static_cast<std::size_t>(dim);
    data_bytes += count;
  }
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, spread);
  std::size_t at = image.size() - data_bytes;
  for (const TensorSpec& tensor : tensors) {
    std::size_t count = 1;
    for (std::int64_t dim : tensor.shape) count *= static_cast<std::size_t>(dim);
    const bool norm_weight = tensor.name.find("LayerNorm.weight") != std::string::npos;
    for (std::size_t i = 0; i < count; ++i, at += 4) {
      const float value = normal(rng) + (norm_weight ? 1.0f : 0.0f);
      std::memcpy(image.data() + at, &value, 4);
    }
  }
  REQUIRE(at == image.size());
  return image;
}

// config.json of a two-layer BERT with hidden size 8, small enough to write in a test.
inline nlohmann::json tiny_bert_config() {
  return {{"model_type", "bert"},    {"hidden_size", 8},
          {"num_hidden_layers", 2},  {"num_attention_heads", 2},
          {"intermediate_size", 16}, {"max_position_embeddings", 32},
          {"vocab_size", 12},        {"type_vocab_size", 2},
          {"hidden_act", "gelu"},    {"layer_norm_eps", 1e-12},
          {"pad_token_id", 0},       {"position_embedding_type", "absolute"}};
}

// Every tensor a BERT encoder with `config` needs, named with `prefix`.
inline std::vector<TensorSpec> tiny_bert_tensors(const nlohmann::json& config,
                                                 const std::string& prefix = "",
                                                 const std::string& dtype = "F32") {
  const std::int64_t hidden = config["hidden_size"];
  const std::int64_t inner = config["intermediate_size"];
  std::vector<TensorSpec> tensors{
      {prefix + "embeddings.word_embeddings.weight", dtype, {config["vocab_size"], hidden}},
      {prefix + "embeddings.position_embeddings.weight",
       dtype,
       {config["max_position_embeddings"], hidden}},
      {prefix + "embeddings.token_type_embeddings.weight",
       dtype,
       {config["type_vocab_size"], hidden}},
      {prefix + "embeddings.LayerNorm.weight", dtype, {hidden}},
      {prefix + "embeddings.LayerNorm.bias", dtype, {hidden}},
  };
  auto linear = [&](const std::string& name, std::int64_t out, std::int64_t in) {
    tensors.push_back({prefix + name + ".weight", dtype, {out, in}});
    tensors.push_back({prefix + name + ".bias", dtype, {out}});
  };
  auto norm = [&](const std::string& name) {
    tensors.push_back({prefix + name + ".weight", dtype, {hidden}});
    tensors.push_back({prefix + name + ".bias", dtype, {hidden}});
  };
  const int layers = config["num_hidden_layers"];
  for (int layer = 0; layer < layers; ++layer) {
    const std::string base = "encoder.layer." + std::to_string(layer) + ".";
    linear(base + "attention.self.query", hidden, hidden);
    linear(base + "attention.self.key", hidden, hidden);
    linear(base + "attention.self.value", hidden, hidden);
    linear(base + "attention.output.dense", hidden, hidden);
    norm(base + "attention.output.LayerNorm");
    linear(base + "intermediate.dense", inner, hidden);
    linear(base + "output.dense", hidden, inner);
    norm(base + "output.LayerNorm");
  }
  return tensors;
}

// A complete sentence-transformers folder for the tiny BERT: config, modules, mean pooling,
// a WordPiece vocabulary and (unless `tensors` is empty) weights.
inline void write_tiny_model(const std::filesystem::path& dir, const nlohmann::json& config,
                             const std::vector<TensorSpec>& tensors) {
  write_file(dir / "config.json", config.dump(2));
  write_file(dir / "modules.json", R"([
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
  ])");
  std::filesystem::create_directories(dir / "1_Pooling");
  // Tests that break hidden_size must see config.json's error, not a pooling mismatch.
  const auto hidden = config.find("hidden_size");
  const std::string width = hidden != config.end() && hidden->is_number_unsigned()
                                ? R"("word_embedding_dimension": )" + hidden->dump() + ", "
                                : "";
  write_file(dir / "1_Pooling" / "config.json",
             "{" + width + R"("pooling_mode_mean_tokens": true, "pooling_mode_cls_token": false})");
  write_file(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\nf\ng\n");
  if (!tensors.empty()) write_file(dir / "model.safetensors", safetensors_image(tensors));
}

}  // namespace nowrec::test

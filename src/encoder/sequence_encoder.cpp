// Loading a SequenceEncoder: checks that the architecture is one nowrec runs and that every
// weight tensor is present with the shape config.json implies, then builds the encoder.
#include "nowrec/sequence_encoder.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

#include "encoder/sequence_encoder_impl.hpp"
#include "encoder/thread_count.hpp"
#include "encoder/weight_conversion.hpp"
#include "nowrec/error.hpp"

namespace nowrec {

namespace {

constexpr std::array<std::string_view, 3> kModelTypes{"bert", "roberta", "xlm-roberta"};
// All four are GELU; they differ only in the erf or tanh formulation.
constexpr std::array<std::string_view, 4> kActivations{"gelu", "gelu_new", "gelu_pytorch_tanh",
                                                       "gelu_python"};
// Checkpoints saved from BertForX / RobertaForX keep the base model under a prefix.
constexpr std::array<std::string_view, 3> kWeightPrefixes{"", "bert.", "roberta."};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

template <std::size_t N>
std::string joined(const std::array<std::string_view, N>& names) {
  std::string text;
  for (std::string_view name : names) {
    if (!text.empty()) text += ", ";
    text += name;
  }
  return text;
}

void require_supported(const TransformerConfig& config, const std::string& config_label) {
  auto unsupported = [&](std::string_view field, const std::string& value,
                         const std::string& supported) {
    throw Error(ErrorCode::Unsupported,
                config_label + ": field '" + std::string(field) + "' is '" + value +
                    "', which nowrec does not run (supported: " + supported + ")");
  };
  if (!contains(kModelTypes, config.model_type)) {
    unsupported("model_type", config.model_type, joined(kModelTypes));
  }
  if (!contains(kActivations, config.hidden_act)) {
    unsupported("hidden_act", config.hidden_act, joined(kActivations));
  }
  if (config.position_embedding_type != "absolute") {
    unsupported("position_embedding_type", config.position_embedding_type, "absolute");
  }
}

struct ExpectedTensor {
  std::string name;  // without the checkpoint's prefix
  std::vector<std::int64_t> shape;
};

std::vector<ExpectedTensor> expected_tensors(const TransformerConfig& config) {
  const std::int64_t hidden = config.hidden_size;
  const std::int64_t inner = config.intermediate_size;
  std::vector<ExpectedTensor> tensors{
      {"embeddings.word_embeddings.weight", {config.vocab_size, hidden}},
      {"embeddings.position_embeddings.weight", {config.max_position_embeddings, hidden}},
      {"embeddings.token_type_embeddings.weight", {config.type_vocab_size, hidden}},
      {"embeddings.LayerNorm.weight", {hidden}},
      {"embeddings.LayerNorm.bias", {hidden}},
  };
  auto add_linear = [&](const std::string& name, std::int64_t out, std::int64_t in) {
    tensors.push_back({name + ".weight", {out, in}});
    tensors.push_back({name + ".bias", {out}});
  };
  auto add_norm = [&](const std::string& name) {
    tensors.push_back({name + ".weight", {hidden}});
    tensors.push_back({name + ".bias", {hidden}});
  };
  for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
    const std::string base = "encoder.layer." + std::to_string(layer) + ".";
    add_linear(base + "attention.self.query", hidden, hidden);
    add_linear(base + "attention.self.key", hidden, hidden);
    add_linear(base + "attention.self.value", hidden, hidden);
    add_linear(base + "attention.output.dense", hidden, hidden);
    add_norm(base + "attention.output.LayerNorm");
    add_linear(base + "intermediate.dense", inner, hidden);
    add_linear(base + "output.dense", hidden, inner);
    add_norm(base + "output.LayerNorm");
  }
  return tensors;
}

std::string_view find_prefix(const SafetensorsFile& weights) {
  for (std::string_view prefix : kWeightPrefixes) {
    if (weights.find(std::string(prefix) + "embeddings.word_embeddings.weight") != nullptr) {
      return prefix;
    }
  }
  return "";
}

void check_tensor(const SafetensorsFile& weights, const std::string& weights_label,
                  const std::string& name, const std::vector<std::int64_t>& shape, bool required) {
  const TensorView* tensor =
      encoder::find_tensor_with_shape(weights, weights_label, name, shape, required);
  if (tensor == nullptr) return;
  if (tensor->dtype != TensorDtype::F32 && tensor->dtype != TensorDtype::F16 &&
      tensor->dtype != TensorDtype::BF16) {
    throw Error(ErrorCode::Unsupported, weights_label + ": tensor '" + name + "' has dtype " +
                                            std::string(tensor_dtype_name(tensor->dtype)) +
                                            " (supported: F32, F16, BF16)");
  }
}

// A checkpoint with more layers than config.json states would otherwise load silently
// truncated.
void check_no_extra_layers(const SafetensorsFile& weights, const std::string& weights_label,
                           std::string_view prefix, int layers) {
  const std::string layer_prefix = std::string(prefix) + "encoder.layer.";
  for (const TensorView& tensor : weights.tensors()) {
    std::string_view name = tensor.name;
    if (!name.starts_with(layer_prefix)) continue;
    name.remove_prefix(layer_prefix.size());
    int index = 0;
    auto [end, status] = std::from_chars(name.data(), name.data() + name.size(), index);
    if (status == std::errc() && index >= layers) {
      throw Error(ErrorCode::InvalidModel, weights_label + ": tensor '" + tensor.name +
                                               "' belongs to layer " + std::to_string(index) +
                                               " but config.json's num_hidden_layers is " +
                                               std::to_string(layers));
    }
  }
}

void check_weights(const ModelFolder& model) {
  const TransformerConfig& config = model.config();
  const SafetensorsFile& weights = model.weights();
  const std::string weights_label = (model.path() / "model.safetensors").string();
  const std::string prefix(find_prefix(weights));
  for (const ExpectedTensor& expected : expected_tensors(config)) {
    check_tensor(weights, weights_label, prefix + expected.name, expected.shape, true);
  }
  const std::int64_t hidden = config.hidden_size;
  check_tensor(weights, weights_label, prefix + "pooler.dense.weight", {hidden, hidden}, false);
  check_tensor(weights, weights_label, prefix + "pooler.dense.bias", {hidden}, false);
  check_no_extra_layers(weights, weights_label, prefix, config.num_hidden_layers);
}

// Default picks the device's natural format; an explicit one the device does not run is refused
// rather than silently replaced.
Dtype resolve_dtype(const EncoderOptions& options) {
  const bool cuda = options.device == Device::CUDA;
  if (options.dtype == Dtype::Default) return cuda ? Dtype::F16 : Dtype::F32;
  if (cuda ? options.dtype == Dtype::F32 : options.dtype == Dtype::F16) {
    throw Error(ErrorCode::Unsupported,
                "EncoderOptions::dtype is " + std::string(dtype_name(options.dtype)) + " but the " +
                    std::string(device_name(options.device)) + " encoder runs " +
                    (cuda ? "f16 and bf16" : "f32 and bf16"));
  }
  return options.dtype;
}

}  // namespace

SequenceEncoder SequenceEncoder::load(const std::filesystem::path& model_dir,
                                      const EncoderOptions& options) {
  return load(ModelFolder::load(model_dir), options);
}

SequenceEncoder SequenceEncoder::load(const ModelFolder& model, const EncoderOptions& options) {
  encoder::check_thread_count(options.threads, "EncoderOptions::threads");
  require_device(options.device);
  EncoderOptions resolved = options;
  resolved.dtype = resolve_dtype(options);
  const TransformerConfig& config = model.config();
  require_supported(config, (model.path() / "config.json").string());
  check_weights(model);

  SequenceEncoder encoder;
  encoder.info_.model_type = config.model_type;
  encoder.info_.dim = static_cast<std::size_t>(config.hidden_size);
  encoder.info_.layers = config.num_hidden_layers;
  encoder.info_.heads = config.num_attention_heads;
  encoder.info_.max_length = model.max_sequence_length();
  encoder.info_.pooling = model.pooling();
  encoder.info_.device = resolved.device;
  encoder.info_.dtype = resolved.dtype;
  encoder.impl_ = make_impl(model, resolved);
  if (encoder.impl_->cpu) {
    encoder.info_.cpu_matmul = encoder::matmul_precision_name(encoder.impl_->cpu->precision());
    // The first forward pass builds what later ones reuse (oneDNN's kernels, the OpenMP team,
    // the scratch arenas): about 30 ms, paid here so that the first request runs as fast as
    // the rest. Later token lengths reuse all of it.
    if (encoder.impl_->cpu->has_tokenizer()) {
      const std::string_view warm_up[] = {"warm up"};
      std::vector<float> out(encoder.info_.dim);
      for (int pass = 0; pass < 2; ++pass) encoder.encode(warm_up, out);
    }
  }
  return encoder;
}

}  // namespace nowrec

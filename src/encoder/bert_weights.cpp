// Reading a BERT-family checkpoint into fp32 BertWeights, fusing the Q, K and V projections.
#include "encoder/bert_weights.hpp"

#include <array>
#include <string>
#include <string_view>

#include "encoder/weight_conversion.hpp"

namespace nowrec::encoder {
namespace {

// Checkpoints saved from BertForX / RobertaForX keep the base model under a prefix.
constexpr std::array<std::string_view, 3> kPrefixes{"", "bert.", "roberta."};

class TensorReader {
 public:
  explicit TensorReader(const SafetensorsFile& file) : file_(file) {
    for (std::string_view prefix : kPrefixes) {
      if (file.find(std::string(prefix) + "embeddings.word_embeddings.weight") != nullptr) {
        prefix_ = prefix;
        break;
      }
    }
  }

  std::vector<float> read(const std::string& name) const {
    return tensor_to_f32(file_.at(prefix_ + name));
  }

  LinearWeights linear(const std::string& name) const {
    const TensorView& weight = file_.at(prefix_ + name + ".weight");
    LinearWeights linear;
    linear.out = static_cast<std::size_t>(weight.shape.at(0));
    linear.in = static_cast<std::size_t>(weight.shape.at(1));
    linear.weight = tensor_to_f32(weight);
    linear.bias = read(name + ".bias");
    return linear;
  }

  NormWeights norm(const std::string& name) const {
    return {read(name + ".weight"), read(name + ".bias")};
  }

 private:
  const SafetensorsFile& file_;
  std::string prefix_;
};

// [q; k; v] rows: one matmul then yields each token's query, key and value side by side.
LinearWeights stack(const LinearWeights& q, const LinearWeights& k, const LinearWeights& v) {
  LinearWeights fused;
  fused.in = q.in;
  fused.out = q.out + k.out + v.out;
  for (const LinearWeights* part : {&q, &k, &v}) {
    fused.weight.insert(fused.weight.end(), part->weight.begin(), part->weight.end());
    fused.bias.insert(fused.bias.end(), part->bias.begin(), part->bias.end());
  }
  return fused;
}

}  // namespace

BertWeights read_bert_weights(const ModelFolder& model) {
  const TensorReader reader(model.weights());
  BertWeights weights;
  weights.word_embeddings = reader.read("embeddings.word_embeddings.weight");
  weights.position_embeddings = reader.read("embeddings.position_embeddings.weight");
  weights.token_type_embeddings = reader.read("embeddings.token_type_embeddings.weight");
  weights.embedding_norm = reader.norm("embeddings.LayerNorm");
  for (int index = 0; index < model.config().num_hidden_layers; ++index) {
    const std::string base = "encoder.layer." + std::to_string(index) + ".";
    LayerWeights layer;
    layer.qkv = stack(reader.linear(base + "attention.self.query"),
                      reader.linear(base + "attention.self.key"),
                      reader.linear(base + "attention.self.value"));
    layer.attention_output = reader.linear(base + "attention.output.dense");
    layer.attention_norm = reader.norm(base + "attention.output.LayerNorm");
    layer.intermediate = reader.linear(base + "intermediate.dense");
    layer.output = reader.linear(base + "output.dense");
    layer.output_norm = reader.norm(base + "output.LayerNorm");
    weights.layers.push_back(std::move(layer));
  }
  return weights;
}

}  // namespace nowrec::encoder

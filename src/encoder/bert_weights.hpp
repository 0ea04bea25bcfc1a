// A BERT-family checkpoint's weights as fp32, grouped the way the CPU forward pass uses them.
#pragma once

#include <cstddef>
#include <vector>

#include "nowrec/model_folder.hpp"

namespace nowrec::encoder {

// An nn.Linear: weight is [out][in] row-major, as PyTorch stores it.
struct LinearWeights {
  std::vector<float> weight;
  std::vector<float> bias;
  std::size_t out = 0, in = 0;
};

struct NormWeights {
  std::vector<float> gamma, beta;
};

struct LayerWeights {
  LinearWeights qkv;  // query, key and value stacked into one [3 * hidden][hidden] projection
  LinearWeights attention_output;
  NormWeights attention_norm;
  LinearWeights intermediate;
  LinearWeights output;
  NormWeights output_norm;
};

struct BertWeights {
  std::vector<float> word_embeddings;        // [vocab][hidden]
  std::vector<float> position_embeddings;    // [max_position_embeddings][hidden]
  std::vector<float> token_type_embeddings;  // [type_vocab_size][hidden]
  NormWeights embedding_norm;
  std::vector<LayerWeights> layers;
};

// Reads every tensor of the folder's model.safetensors (with or without a "bert." or
// "roberta." prefix) as fp32. Expects a folder SequenceEncoder::load has validated.
BertWeights read_bert_weights(const ModelFolder& model);

}  // namespace nowrec::encoder

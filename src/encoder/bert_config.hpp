// The sizes and choices of a BERT-family forward pass, read from a model folder once for every
// device that runs it.
#pragma once

#include <cstddef>

#include "nowrec/model_folder.hpp"

namespace nowrec::encoder {

struct BertConfig {
  std::size_t hidden = 0;
  std::size_t heads = 0;
  std::size_t head_dim = 0;  // hidden / heads
  std::size_t intermediate = 0;
  std::size_t vocab_size = 0;
  std::size_t position_offset = 0;  // RoBERTa numbers positions from pad_token_id + 1
  float norm_eps = 0.0f;
  bool tanh_gelu = false;  // "gelu_new" / "gelu_pytorch_tanh"; otherwise the exact erf form
  PoolingConfig pooling;
};

// From a folder SequenceEncoder::load has validated (heads divide hidden).
BertConfig read_bert_config(const ModelFolder& model);

}  // namespace nowrec::encoder

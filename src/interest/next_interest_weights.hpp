// The tensors a learned next-interest model adds to its BERT weights, read as fp32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "interest/next_interest_config.hpp"
#include "nowrec/safetensors.hpp"

namespace nowrec::interest {

// An nn.Linear: weight [out][in] row-major, as PyTorch stores it.
struct DenseLayer {
  std::vector<float> weight;
  std::vector<float> bias;
  std::size_t out = 0, in = 0;

  // y[r] = weight . x[r] + bias for `rows` rows of x (in floats each) into y (out floats each).
  void apply(std::span<const float> x, std::size_t rows, std::span<float> y) const noexcept;
};

struct NextInterestWeights {
  DenseLayer input_projection;           // text_dim -> hidden
  std::vector<float> action_embeddings;  // [actions + 1][hidden]
  std::vector<float> gap_embeddings;     // [gap_buckets][hidden]
  DenseLayer output_projection;          // hidden -> item_space_dim
  DenseLayer item_projection;            // text_dim -> item_space_dim
  DenseLayer item_mlp_in, item_mlp_out;  // text_dim -> item_mlp_hidden -> item_space_dim; empty
                                         // when config.item_mlp_hidden is 0
  // [id_items + 1][item_space_dim]; row 0 is the "no id" row (zero). Empty without ids.
  std::vector<float> id_embeddings;
  // The item of id rows 1, 2, ...: id_item_ids[r - 1] owns row r. Distinct.
  std::vector<std::int64_t> id_item_ids;
};

// Reads the "next_interest.*" tensors with the shapes `config` and the transformer's hidden
// size imply. Throws Error(InvalidModel) naming `label` (the weights file) and the tensor for a
// missing or misshapen tensor, a non-finite value, a repeated id item or a non-zero "no id" row,
// Error(Unsupported) for a dtype other than F32, F16 or BF16 (I64 for the id items).
NextInterestWeights read_next_interest_weights(const SafetensorsFile& weights,
                                               const std::string& label,
                                               const NextInterestConfig& config,
                                               std::size_t hidden);

}  // namespace nowrec::interest

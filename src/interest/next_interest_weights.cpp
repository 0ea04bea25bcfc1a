// Reading and checking the learned next-interest model's own tensors.
#include "interest/next_interest_weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cpu/dispatch.hpp"
#include "encoder/weight_conversion.hpp"
#include "nowrec/error.hpp"

namespace nowrec::interest {
namespace {

constexpr const char* kPrefix = "next_interest.";

std::vector<float> read_tensor(const SafetensorsFile& weights, const std::string& label,
                               const std::string& name, std::vector<std::int64_t> shape) {
  const std::string full = kPrefix + name;
  const TensorView* tensor = encoder::find_tensor_with_shape(weights, label, full, shape, true);
  std::vector<float> values = encoder::tensor_to_f32(*tensor);
  for (float value : values) {
    if (!std::isfinite(value)) {
      throw Error(ErrorCode::InvalidModel,
                  label + ": tensor '" + full + "' holds a non-finite value");
    }
  }
  return values;
}

DenseLayer read_dense(const SafetensorsFile& weights, const std::string& label,
                      const std::string& name, std::size_t out, std::size_t in) {
  const auto rows = static_cast<std::int64_t>(out);
  DenseLayer layer;
  layer.weight =
      read_tensor(weights, label, name + ".weight", {rows, static_cast<std::int64_t>(in)});
  layer.bias = read_tensor(weights, label, name + ".bias", {rows});
  layer.out = out;
  layer.in = in;
  return layer;
}

// An int64 tensor of `count` elements, e.g. the items that own the id rows.
std::vector<std::int64_t> read_int64_tensor(const SafetensorsFile& weights, const std::string& label,
                                            const std::string& name, std::size_t count) {
  const std::string full = kPrefix + name;
  const TensorView* tensor = encoder::find_tensor_with_shape(
      weights, label, full, {static_cast<std::int64_t>(count)}, true);
  if (tensor->dtype != TensorDtype::I64) {
    throw Error(ErrorCode::Unsupported, label + ": tensor '" + full + "' is " +
                                            std::string(tensor_dtype_name(tensor->dtype)) +
                                            "; item ids must be I64");
  }
  std::vector<std::int64_t> values(count);
  std::memcpy(values.data(), tensor->bytes.data(), count * sizeof(std::int64_t));
  return values;
}

void read_id_embeddings(const SafetensorsFile& weights, const std::string& label,
                        const NextInterestConfig& config, NextInterestWeights& result) {
  const auto rows = static_cast<std::int64_t>(config.id_items + 1);
  result.id_embeddings = read_tensor(weights, label, "id_embeddings",
                                     {rows, static_cast<std::int64_t>(config.item_space_dim)});
  if (std::any_of(result.id_embeddings.begin(),
                  result.id_embeddings.begin() +
                      static_cast<std::ptrdiff_t>(config.item_space_dim),
                  [](float v) { return v != 0.0f; })) {
    throw Error(ErrorCode::InvalidModel, label + ": tensor '" + kPrefix +
                                             "id_embeddings' row 0 (no id) must be zero");
  }
  result.id_item_ids = read_int64_tensor(weights, label, "id_item_ids", config.id_items);
  std::vector<std::int64_t> sorted = result.id_item_ids;
  std::sort(sorted.begin(), sorted.end());
  const auto repeated = std::adjacent_find(sorted.begin(), sorted.end());
  if (repeated != sorted.end()) {
    throw Error(ErrorCode::InvalidModel, label + ": tensor '" + kPrefix +
                                             "id_item_ids' repeats the item " +
                                             std::to_string(*repeated));
  }
}

}  // namespace

void DenseLayer::apply(std::span<const float> x, std::size_t rows,
                       std::span<float> y) const noexcept {
  // score_rows_f32 writes y[r][o] = x[r] . weight[o]: the whole layer as one ISA-dispatched call.
  cpu::kernels().score_rows_f32(x.data(), rows, weight.data(), out, in, y.data());
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = y.data() + r * out;
    for (std::size_t o = 0; o < out; ++o) row[o] += bias[o];
  }
}

NextInterestWeights read_next_interest_weights(const SafetensorsFile& weights,
                                               const std::string& label,
                                               const NextInterestConfig& config,
                                               std::size_t hidden) {
  const auto h = static_cast<std::int64_t>(hidden);
  NextInterestWeights result;
  result.input_projection = read_dense(weights, label, "input_projection", hidden, config.text_dim);
  result.action_embeddings = read_tensor(weights, label, "action_embeddings",
                                         {static_cast<std::int64_t>(config.actions.size() + 1), h});
  result.gap_embeddings = read_tensor(weights, label, "gap_embeddings",
                                      {static_cast<std::int64_t>(config.gap_buckets), h});
  result.output_projection =
      read_dense(weights, label, "output_projection", config.item_space_dim, hidden);
  result.item_projection =
      read_dense(weights, label, "item_projection", config.item_space_dim, config.text_dim);
  if (config.item_mlp_hidden > 0) {
    result.item_mlp_in =
        read_dense(weights, label, "item_mlp_in", config.item_mlp_hidden, config.text_dim);
    result.item_mlp_out =
        read_dense(weights, label, "item_mlp_out", config.item_space_dim, config.item_mlp_hidden);
  }
  if (config.id_items > 0) read_id_embeddings(weights, label, config, result);
  return result;
}

}  // namespace nowrec::interest

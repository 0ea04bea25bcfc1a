// LearnedNextInterestModel: event vectors from the ItemStore, the causal transformer, the
// projection into the learned item space.
#include "nowrec/next_interest_model.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>

#include "cpu/dispatch.hpp"
#include "interest/next_interest_config.hpp"
#include "interest/next_interest_weights.hpp"
#include "model/json_fields.hpp"
#include "nowrec/error.hpp"

namespace nowrec {

struct LearnedNextInterestModel::Impl {
  const ItemStore* items = nullptr;
  SequenceEncoder encoder;
  interest::NextInterestConfig config;
  interest::NextInterestWeights weights;
  std::size_t hidden = 0;
  // Item id -> its row of weights.id_embeddings (>= 1); items without one are absent.
  std::unordered_map<std::int64_t, std::size_t> id_row_of;

  // The item's id embedding (item_space_dim floats), or null when it has none.
  const float* id_embedding(std::int64_t item) const {
    if (id_row_of.empty()) return nullptr;
    const auto it = id_row_of.find(item);
    if (it == id_row_of.end()) return nullptr;
    return weights.id_embeddings.data() + it->second * config.item_space_dim;
  }
};

namespace {

// Per-thread buffers, so that predict() allocates only while a thread's first calls grow them.
struct PredictScratch {
  std::vector<std::size_t> events;  // indices into `recent`, oldest first
  std::vector<float> text;          // [events][text_dim]
  std::vector<float> inputs;        // [events][hidden]
  std::vector<float> state;         // [hidden]
};

PredictScratch& predict_scratch() {
  thread_local PredictScratch scratch;
  return scratch;
}

std::size_t action_row(std::string_view action, const std::vector<std::string>& actions) {
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (actions[i] == action) return i + 1;
  }
  return 0;
}

bool all_finite(std::span<const float> values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

// Writes the unit vector of `vector` (item_space_dim floats) into the first coordinates of `out`
// and zeros after them: the learned item space is narrower than the item dim that the tracker
// and the index hold.
void write_unit(std::span<float> vector, std::span<float> out) {
  cpu::kernels().l2_normalize(vector.data(), vector.size());
  std::copy(vector.begin(), vector.end(), out.begin());
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(vector.size()), out.end(), 0.0f);
}

float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }

}  // namespace

LearnedNextInterestModel::LearnedNextInterestModel(std::shared_ptr<const Impl> impl)
    : impl_(std::move(impl)) {}

LearnedNextInterestModel LearnedNextInterestModel::load(const std::filesystem::path& folder,
                                                        const ItemStore& items,
                                                        std::size_t item_dim,
                                                        const EncoderOptions& options) {
  const ModelFolder model = ModelFolder::load(folder);
  const std::string config_label = (folder / "config.json").string();
  auto impl = std::make_shared<Impl>();
  impl->config = interest::parse_next_interest_config(
      json_fields::read_text_file(folder / "config.json"), config_label);
  impl->encoder = SequenceEncoder::load(model, options);
  const interest::NextInterestConfig& config = impl->config;
  const EncoderInfo& info = impl->encoder.info();
  if (info.pooling.mode != PoolingMode::LastToken || info.pooling.normalize) {
    throw Error(ErrorCode::InvalidModel,
                (folder / "1_Pooling" / "config.json").string() +
                    ": the model must pool the last token, without normalisation (found " +
                    std::string(pooling_mode_name(info.pooling.mode)) +
                    (info.pooling.normalize ? " + normalize)" : ")"));
  }
  if (config.window > info.max_length) {
    throw Error(ErrorCode::InvalidModel, config_label + ": field 'nowrec_next_interest.window' (" +
                                             std::to_string(config.window) + ") exceeds the " +
                                             std::to_string(info.max_length) +
                                             " positions of the transformer");
  }
  if (item_dim != config.text_dim) {
    throw Error(ErrorCode::InvalidArgument,
                "LearnedNextInterestModel::load: item_dim is " + std::to_string(item_dim) +
                    " but the model at " + folder.string() + " reads item embeddings of " +
                    std::to_string(config.text_dim) + " floats (config.json's text_dim)");
  }
  impl->hidden = info.dim;
  if (config.id_items > 0 && config.item_space_dim != impl->hidden) {
    throw Error(ErrorCode::InvalidModel,
                config_label + ": field 'nowrec_next_interest.item_space_dim' (" +
                    std::to_string(config.item_space_dim) +
                    ") must equal the hidden size (" + std::to_string(impl->hidden) +
                    ") when the model has id embeddings, which the input and the item space share");
  }
  impl->weights = interest::read_next_interest_weights(
      model.weights(), (folder / "model.safetensors").string(), config, impl->hidden);
  impl->id_row_of.reserve(impl->weights.id_item_ids.size());
  for (std::size_t r = 0; r < impl->weights.id_item_ids.size(); ++r) {
    impl->id_row_of.emplace(impl->weights.id_item_ids[r], r + 1);
  }
  impl->items = &items;
  return LearnedNextInterestModel(std::move(impl));
}

std::optional<float> LearnedNextInterestModel::predict(std::string_view /*user*/,
                                                       std::span<const RecentEvent> recent,
                                                       std::int64_t /*now*/,
                                                       std::span<float> out) const {
  // `now` is not an input: the model reads the gaps between the window's events only.
  const Impl& m = *impl_;
  const interest::NextInterestConfig& config = m.config;
  if (out.size() != config.text_dim) {
    throw Error(ErrorCode::InvalidArgument,
                "LearnedNextInterestModel::predict: out holds " + std::to_string(out.size()) +
                    " floats but the model's item dim is " + std::to_string(config.text_dim));
  }
  PredictScratch& scratch = predict_scratch();
  scratch.events.clear();
  scratch.text.resize(config.window * config.text_dim);
  // Newest first, so the window fills with the last events the store knows.
  for (std::size_t i = recent.size(); i-- > 0 && scratch.events.size() < config.window;) {
    if (recent[i].item < 0) continue;
    const std::span<float> row(scratch.text.data() + scratch.events.size() * config.text_dim,
                               config.text_dim);
    if (!m.items->lookup(recent[i].item, row)) continue;
    if (!all_finite(row)) {
      throw Error(ErrorCode::InvalidArgument,
                  "LearnedNextInterestModel::predict: the ItemStore's "
                  "embedding of item " +
                      std::to_string(recent[i].item) + " holds a non-finite value");
    }
    scratch.events.push_back(i);
  }
  const std::size_t n = scratch.events.size();
  if (n == 0) return std::nullopt;
  // Oldest first, as the transformer reads them.
  std::reverse(scratch.events.begin(), scratch.events.end());
  for (std::size_t a = 0, b = n - 1; a < b; ++a, --b) {
    std::swap_ranges(scratch.text.begin() + static_cast<std::ptrdiff_t>(a * config.text_dim),
                     scratch.text.begin() + static_cast<std::ptrdiff_t>((a + 1) * config.text_dim),
                     scratch.text.begin() + static_cast<std::ptrdiff_t>(b * config.text_dim));
  }

  const std::size_t hidden = m.hidden;
  scratch.inputs.resize(n * hidden);
  m.weights.input_projection.apply(scratch.text, n, scratch.inputs);
  for (std::size_t t = 0; t < n; ++t) {
    const RecentEvent& event = recent[scratch.events[t]];
    const std::size_t action = action_row(event.action, config.actions);
    const std::size_t gap = t == 0 ? 0
                                   : interest::gap_bucket(recent[scratch.events[t - 1]].timestamp,
                                                          event.timestamp, config.gap_buckets);
    float* input = scratch.inputs.data() + t * hidden;
    const float* action_row_values = m.weights.action_embeddings.data() + action * hidden;
    const float* gap_row_values = m.weights.gap_embeddings.data() + gap * hidden;
    for (std::size_t j = 0; j < hidden; ++j) input[j] += action_row_values[j] + gap_row_values[j];
    // The shared id embedding (hidden == item_space_dim was checked at load).
    if (const float* id = m.id_embedding(event.item)) {
      for (std::size_t j = 0; j < hidden; ++j) input[j] += id[j];
    }
  }

  scratch.state.resize(hidden + config.item_space_dim);
  const std::span<const float> sequence(scratch.inputs.data(), n * hidden);
  m.encoder.encode_vectors(std::span(&sequence, 1), AttentionMask::Causal,
                           std::span(scratch.state.data(), hidden));
  const std::span<float> prediction(scratch.state.data() + hidden, config.item_space_dim);
  m.weights.output_projection.apply(std::span(scratch.state.data(), hidden), 1, prediction);
  write_unit(prediction, out);
  return config.prediction_weight;
}

std::vector<float> LearnedNextInterestModel::item_vectors(
    std::span<const std::int64_t> item_ids, std::span<const float> text_embeddings) const {
  const Impl& m = *impl_;
  const interest::NextInterestConfig& config = m.config;
  const std::size_t dim = config.text_dim;
  if (text_embeddings.size() % dim != 0) {
    throw Error(ErrorCode::InvalidArgument,
                "LearnedNextInterestModel::item_vectors: text_embeddings holds " +
                    std::to_string(text_embeddings.size()) +
                    " floats, not a multiple of the item dim " + std::to_string(dim));
  }
  if (item_ids.size() != text_embeddings.size() / dim) {
    throw Error(ErrorCode::InvalidArgument,
                "LearnedNextInterestModel::item_vectors: " + std::to_string(item_ids.size()) +
                    " item ids for " + std::to_string(text_embeddings.size() / dim) +
                    " rows of text embeddings");
  }
  if (!all_finite(text_embeddings)) {
    throw Error(ErrorCode::InvalidArgument,
                "LearnedNextInterestModel::item_vectors: text_embeddings holds a non-finite value");
  }
  const std::size_t count = text_embeddings.size() / dim;
  const std::size_t space = config.item_space_dim;
  std::vector<float> out(count * dim);
  // Blocks of rows keep the temporaries small for a large catalog.
  constexpr std::size_t kBlock = 256;
  std::vector<float> projected(kBlock * space);
  std::vector<float> inner(kBlock * config.item_mlp_hidden);
  std::vector<float> residual(kBlock * space);
  for (std::size_t first = 0; first < count; first += kBlock) {
    const std::size_t rows = std::min(kBlock, count - first);
    const std::span<const float> block = text_embeddings.subspan(first * dim, rows * dim);
    m.weights.item_projection.apply(block, rows, projected);
    if (config.item_mlp_hidden > 0) {
      m.weights.item_mlp_in.apply(block, rows, inner);
      for (std::size_t i = 0; i < rows * config.item_mlp_hidden; ++i) inner[i] = gelu(inner[i]);
      m.weights.item_mlp_out.apply(inner, rows, residual);
      for (std::size_t i = 0; i < rows * space; ++i) projected[i] += residual[i];
    }
    for (std::size_t r = 0; r < rows; ++r) {
      if (const float* id = m.id_embedding(item_ids[first + r])) {
        float* row = projected.data() + r * space;
        for (std::size_t j = 0; j < space; ++j) row[j] += id[j];
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      write_unit(std::span(projected.data() + r * space, space),
                 std::span(out.data() + (first + r) * dim, dim));
    }
  }
  return out;
}

std::size_t LearnedNextInterestModel::item_dim() const noexcept { return impl_->config.text_dim; }
std::size_t LearnedNextInterestModel::window() const noexcept { return impl_->config.window; }
std::size_t LearnedNextInterestModel::id_items() const noexcept {
  return impl_->config.id_items;
}
float LearnedNextInterestModel::prior_weight() const noexcept { return impl_->config.prior_weight; }

}  // namespace nowrec

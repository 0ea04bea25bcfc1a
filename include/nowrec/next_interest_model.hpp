// LearnedNextInterestModel: a small causal transformer over a user's recent events that predicts
// the direction of the next interaction, run on the SequenceEncoder's kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "nowrec/interest_types.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec {

// Loaded from a folder written by tools/train_next_interest.py: config.json and
// model.safetensors. Each recent event becomes one input vector built from the item's text
// embedding (looked up in the ItemStore), the item's own id embedding when the model learned one
// for it (items seen often enough in training), its action and the time since the event before
// it; the transformer runs with a causal mask and the last event's state is projected into the
// item space. The prediction is scored against item_vectors() of the catalog, where an item is
// its projected text plus its id embedding, or its text alone for an item without one (new items
// rank from their text).
//
// Thread-safety: const methods may be called concurrently. The ItemStore must outlive the model.
class LearnedNextInterestModel final : public NextInterestModel {
 public:
  // Throws Error(NotFound) for a missing file, Error(InvalidModel) naming the file and field for
  // a malformed config or a missing or misshapen tensor, and Error(InvalidArgument) when the
  // ItemStore's dim differs from the model's item dim.
  static LearnedNextInterestModel load(const std::filesystem::path& folder, const ItemStore& items,
                                       std::size_t item_dim, const EncoderOptions& options = {});

  // Uses the last window() events of `recent` whose item the store knows (events without an item
  // or with an unknown one are skipped); returns nullopt when none is left. The weight returned
  // is the model's configured prediction weight. Throws Error(InvalidArgument) for a wrong
  // out size.
  std::optional<float> predict(std::string_view user, std::span<const RecentEvent> recent,
                               std::int64_t now, std::span<float> out) const override;

  // The vectors the predictions are scored against, one per item: `text_embeddings` holds the
  // items' text embeddings (rows of item_dim() floats) in the order of `item_ids`. Unit-length
  // rows of item_dim() floats. Throws Error(InvalidArgument) for a size that is not a multiple of
  // item_dim(), a count of ids that differs from the rows, or a non-finite value.
  std::vector<float> item_vectors(std::span<const std::int64_t> item_ids,
                                  std::span<const float> text_embeddings) const;

  std::size_t item_dim() const noexcept;
  std::size_t window() const noexcept;    // most recent events used
  std::size_t id_items() const noexcept;  // items with their own id embedding; 0: text alone
  // The weight of the popularity prior in the ranking score the model was trained with:
  //   prediction . item_vector + prior_weight() * log(1 + the item's count in the training data)
  // (RankRequest::prior_weight, with the log counts given to ItemIndex::set_priors). 0: none.
  float prior_weight() const noexcept;

  struct Impl;

 private:
  explicit LearnedNextInterestModel(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace nowrec

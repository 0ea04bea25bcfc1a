// The "nowrec_next_interest" section of a learned next-interest model's config.json.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nowrec::interest {

// What tools/train_next_interest.py writes beside the BERT configuration.
struct NextInterestConfig {
  std::size_t window = 0;            // most recent events the model reads
  std::size_t text_dim = 0;          // width of the items' text embeddings
  std::size_t item_space_dim = 0;    // width of the learned item space, at most text_dim
  std::size_t item_mlp_hidden = 0;   // 0: the item vectors are a linear projection alone
  // Items with a free id embedding (format 2), shared by the input and the item space, so the
  // transformer's hidden size equals item_space_dim; 0: text alone (format 1 always).
  std::size_t id_items = 0;
  std::vector<std::string> actions;  // embedding row 1 + i; row 0 is any other action
  std::size_t gap_buckets = 0;       // rows of the time-gap embedding
  float prediction_weight = 1.0f;    // the weight predict() returns
  float prior_weight = 0.0f;         // of log(1 + training count) in the ranking score
};

// Parses config.json's text. Throws Error(InvalidModel) naming `label` and the field at fault,
// Error(Unsupported) for a format_version this build does not read (it reads 1 and 2).
NextInterestConfig parse_next_interest_config(std::string_view text, const std::string& label);

// The time-gap bucket of an event at `current` after one at `previous` (seconds):
// 1 + floor(log2(gap + 1)) capped at buckets - 1, where a negative gap counts as 0. Bucket 0 is
// the window's first event.
std::size_t gap_bucket(std::int64_t previous, std::int64_t current, std::size_t buckets) noexcept;

}  // namespace nowrec::interest

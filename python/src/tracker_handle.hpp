// What the Python InterestTracker and LearnedNextInterestModel own besides the C++ object (the
// ItemStore adapter over the ItemIndex they read item embeddings from; the Python objects they
// were given are kept alive by the binding), and the event both update paths build.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "float32.hpp"
#include "nowrec/interest_tracker.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/next_interest_model.hpp"

namespace nowrec::python {

struct TrackerHandle {
  std::unique_ptr<ItemIndexStore> store;  // null without an item store
  std::unique_ptr<InterestTracker> tracker;
};

struct ModelHandle {
  std::unique_ptr<ItemIndexStore> store;
  std::optional<LearnedNextInterestModel> model;
};

// The event InterestTracker.update and Recommender.observe take from their (same) Python
// arguments; it points into them, so they must outlive it. weight and value come as Python floats
// and are narrowed to float32 here.
inline InterestEvent event_of(const std::string& user, std::int64_t timestamp, std::int64_t item,
                              std::span<const float> embedding, const std::string& action,
                              double weight, std::optional<double> value,
                              const std::optional<std::string>& text, std::uint64_t sequence) {
  InterestEvent event{.user = user,
                      .item_embedding = embedding,
                      .weight = to_float32(weight, "weight"),
                      .timestamp = timestamp,
                      .item = item,
                      .action = action,
                      .value = to_float32(value, "value"),
                      .sequence = sequence};
  if (text) event.text = std::string_view(*text);
  return event;
}

}  // namespace nowrec::python

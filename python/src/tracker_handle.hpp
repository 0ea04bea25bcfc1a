// What the Python InterestTracker and LearnedNextInterestModel own besides the C++ object: the
// ItemStore adapter over the ItemIndex they read item embeddings from (the Python objects they
// were given are kept alive by the binding).
#pragma once

#include <memory>
#include <optional>

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

// The event fields Python passes, kept alive while the C++ event points into them.
struct EventArgs {
  std::string user;
  std::int64_t timestamp = 0;
  std::int64_t item = -1;
  std::string action;
  float weight = 1.0f;
  std::optional<float> value;
  std::optional<std::string> text;
  std::uint64_t sequence = 0;
};

}  // namespace nowrec::python

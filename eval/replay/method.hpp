// What every replayed method does: follow events, then rank the catalog for one user.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "replay/latency.hpp"
#include "replay/ranking_metrics.hpp"
#include "replay/replay_data.hpp"
#include "replay/split.hpp"

namespace nowrec::eval::replay {

// A prediction request: the user's next item at time `now`, excluding what the user has seen.
struct Query {
  std::int64_t user = 0;
  std::int64_t now = 0;
  std::span<const std::uint32_t> seen_rows;
  std::uint32_t target_row = 0;
};

struct Prediction {
  Ranking ranking;
  // Time to produce the top k as a server would (state lookup, scoring, selection), without
  // the extra work the evaluation does to find the target's rank in the whole catalog.
  Elapsed serve;
};

// Thread-safety: none; a protocol drives one method from one thread.
class ReplayMethod {
 public:
  virtual ~ReplayMethod() = default;
  // Applies an event. Per user, events come in (timestamp, item) order.
  virtual void observe(const ReplayEvent& event) = 0;
  virtual Prediction predict(const Query& query) = 0;
};

// One setting of a method's parameters, and how to make the method with it.
struct MethodCandidate {
  nlohmann::json params;
  // `split`: the leave-one-out split to learn from, or null for the streaming protocol.
  std::function<std::unique_ptr<ReplayMethod>(const LeaveOneOutSplit* split)> make;
};

// Marks `rows` in a mask of `size` entries.
std::vector<std::uint8_t> exclusion_mask(std::size_t size, std::span<const std::uint32_t> rows);

// Ranking of a dense score vector: the target's rank and the top k ids.
Ranking rank_dense(std::span<const float> scores, const ReplayData& data, const Query& query,
                   std::size_t k);

}  // namespace nowrec::eval::replay

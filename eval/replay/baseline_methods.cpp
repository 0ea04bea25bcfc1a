// Popularity in a recent window, and co-occurrence of items in users' sequences.
#include "replay/baseline_methods.hpp"

#include <deque>
#include <unordered_map>

#include "replay/popularity.hpp"

namespace nowrec::eval::replay {
namespace {

class PopularMethod final : public ReplayMethod {
 public:
  PopularMethod(const ReplayData& data, std::int64_t window_seconds, std::size_t k)
      : data_(data), popularity_(data.events, data.item_ids.size(), window_seconds), k_(k) {}

  // Popularity is read from the whole stream by time, so events need no bookkeeping here.
  void observe(const ReplayEvent&) override {}

  Prediction predict(const Query& query) override {
    const Stopwatch stopwatch;
    const std::span<const float> counts = popularity_.counts_at(query.now);
    Prediction prediction;
    prediction.ranking = rank_dense(counts, data_, query, k_);
    prediction.serve = stopwatch.elapsed();
    return prediction;
  }

 private:
  const ReplayData& data_;
  WindowedPopularity popularity_;
  std::size_t k_;
};

class CooccurrenceMethod final : public ReplayMethod {
 public:
  CooccurrenceMethod(const ReplayData& data, const LeaveOneOutSplit* split,
                     const CooccurrenceSettings& settings, std::size_t k)
      : data_(data),
        settings_(settings),
        k_(k),
        online_(split == nullptr),
        neighbours_(data.item_ids.size()),
        scores_(data.item_ids.size(), 0.0f) {
    if (split == nullptr) return;
    for (const UserSplit& user : split->users) {
      std::deque<std::uint32_t> recent;
      for (std::uint32_t index : user.train) add_pairs(recent, data.events[index].row);
    }
  }

  void observe(const ReplayEvent& event) override {
    std::deque<std::uint32_t>& recent = recent_[event.user];
    if (online_) {
      add_pairs(recent, event.row);
    } else {
      push_recent(recent, event.row);
    }
  }

  Prediction predict(const Query& query) override {
    const Stopwatch stopwatch;
    std::fill(scores_.begin(), scores_.end(), 0.0f);
    const auto found = recent_.find(query.user);
    if (found != recent_.end()) {
      const std::deque<std::uint32_t>& recent = found->second;
      float vote = 1.0f;
      const std::size_t voters = std::min(settings_.recent_items, recent.size());
      for (std::size_t i = 0; i < voters; ++i, vote *= settings_.recency_decay) {
        for (const auto& [row, count] : neighbours_[recent[recent.size() - 1 - i]]) {
          scores_[row] += vote * count;
        }
      }
    }
    Prediction prediction;
    prediction.ranking = rank_dense(scores_, data_, query, k_);
    prediction.serve = stopwatch.elapsed();
    return prediction;
  }

 private:
  // Counts `row` with each of the last pair_distance items of the sequence, then appends it.
  void add_pairs(std::deque<std::uint32_t>& recent, std::uint32_t row) {
    const std::size_t partners = std::min(settings_.pair_distance, recent.size());
    for (std::size_t d = 1; d <= partners; ++d) {
      const std::uint32_t other = recent[recent.size() - d];
      if (other == row) continue;
      neighbours_[other][row] += 1.0f;
      neighbours_[row][other] += 1.0f;
    }
    push_recent(recent, row);
  }

  void push_recent(std::deque<std::uint32_t>& recent, std::uint32_t row) {
    recent.push_back(row);
    const std::size_t keep = std::max(settings_.pair_distance, settings_.recent_items);
    while (recent.size() > keep) recent.pop_front();
  }

  const ReplayData& data_;
  CooccurrenceSettings settings_;
  std::size_t k_;
  bool online_;
  std::vector<std::unordered_map<std::uint32_t, float>> neighbours_;
  std::unordered_map<std::int64_t, std::deque<std::uint32_t>> recent_;
  std::vector<float> scores_;
};

}  // namespace

std::unique_ptr<ReplayMethod> make_popular(const ReplayData& data, std::int64_t window_seconds,
                                           std::size_t k) {
  return std::make_unique<PopularMethod>(data, window_seconds, k);
}

std::unique_ptr<ReplayMethod> make_cooccurrence(const ReplayData& data,
                                                const LeaveOneOutSplit* split,
                                                const CooccurrenceSettings& settings,
                                                std::size_t k) {
  return std::make_unique<CooccurrenceMethod>(data, split, settings, k);
}

}  // namespace nowrec::eval::replay

// The co-visitation method: the library's CoVisitation graph voted on by the user's recent items.
#include <deque>
#include <unordered_map>

#include "replay/recommender_methods.hpp"

namespace nowrec::eval::replay {

void add_training_pairs(const ReplayData& data, const LeaveOneOutSplit& split,
                        CoVisitation& graph) {
  std::vector<std::int64_t> previous;
  for (const UserSplit& user : split.users) {
    previous.clear();
    for (std::uint32_t index : user.train) {
      const ReplayEvent& event = data.events[index];
      const std::int64_t item = data.item_ids[event.row];
      graph.add(previous, item, event.timestamp);
      previous.push_back(item);
    }
  }
}

namespace {

class CoVisitationMethod final : public ReplayMethod {
 public:
  CoVisitationMethod(const ReplayData& data, const LeaveOneOutSplit* split,
                     const CoVisitationOptions& options, std::size_t k)
      : data_(data),
        graph_(options),
        k_(k),
        online_(split == nullptr),
        keep_(std::max(options.pair_distance, options.voters)),
        scores_(data.item_ids.size(), 0.0f) {
    if (split != nullptr) add_training_pairs(data, *split, graph_);
  }

  void observe(const ReplayEvent& event) override {
    std::vector<std::int64_t>& recent = recent_[event.user];
    const std::int64_t item = data_.item_ids[event.row];
    if (online_) graph_.add(recent, item, event.timestamp);
    recent.push_back(item);
    if (recent.size() > 2 * keep_) recent.erase(recent.begin(), recent.end() - keep_);
  }

  Prediction predict(const Query& query) override {
    const Stopwatch stopwatch;
    const auto found = recent_.find(query.user);
    if (found != recent_.end()) {
      graph_.score(found->second, query.now, scored_);
    } else {
      scored_.clear();
    }
    for (const CoVisitationScore& s : scored_) scores_[data_.row_of.at(s.item)] = s.score;
    Prediction prediction;
    prediction.ranking = rank_dense(scores_, data_, query, k_);
    prediction.serve = stopwatch.elapsed();
    for (const CoVisitationScore& s : scored_) scores_[data_.row_of.at(s.item)] = 0.0f;
    return prediction;
  }

 private:
  const ReplayData& data_;
  CoVisitation graph_;
  std::size_t k_;
  bool online_;
  std::size_t keep_;
  std::unordered_map<std::int64_t, std::vector<std::int64_t>> recent_;
  std::vector<CoVisitationScore> scored_;
  std::vector<float> scores_;
};

}  // namespace

std::unique_ptr<ReplayMethod> make_covisitation_method(const ReplayData& data,
                                                       const LeaveOneOutSplit* split,
                                                       const CoVisitationOptions& options,
                                                       std::size_t k) {
  return std::make_unique<CoVisitationMethod>(data, split, options, k);
}

}  // namespace nowrec::eval::replay

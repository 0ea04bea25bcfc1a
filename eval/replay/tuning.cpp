// Validation-only parameter search.
#include "replay/tuning.hpp"

#include <cstdio>

#include "nowrec/error.hpp"
#include "replay/results_json.hpp"

namespace nowrec::eval::replay {

Validation leave_one_out_validation(const ReplayData& data, const LeaveOneOutSplit& split,
                                    const ProtocolOptions& options) {
  return [&data, &split, options](const MethodCandidate& candidate) {
    const auto method = candidate.make(&split);
    return run_leave_one_out(data, split, *method, HeldOut::Validation, options);
  };
}

Validation temporal_validation(const ReplayData& data, const TemporalCuts& cuts,
                               const ProtocolOptions& options) {
  return [&data, cuts, options](const MethodCandidate& candidate) {
    const auto method = candidate.make(nullptr);
    return run_temporal(data, *method, {.from = cuts.validation, .until = cuts.test}, options);
  };
}

TuningResult tune_on_validation(const std::vector<MethodCandidate>& candidates,
                                const Validation& validate, std::size_t k,
                                const std::function<void(const std::string&)>& log) {
  if (candidates.empty()) {
    throw Error(ErrorCode::InvalidArgument, "replay: a method needs at least one candidate");
  }
  TuningResult tuning;
  tuning.trials = nlohmann::json::array();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    ProtocolResult result = validate(candidates[i]);
    nlohmann::json trial = {{"settings", candidates[i].params}};
    trial["validation"] = metrics_json(result.metrics, k);
    tuning.trials.push_back(trial);
    char line[160];
    std::snprintf(line, sizeof line, "validation ndcg@%zu %.4f hr@%zu %.4f  ", k,
                  result.metrics.ndcg, k, result.metrics.hr);
    log(line + candidates[i].params.dump());
    if (i == 0 || result.metrics.ndcg > tuning.validation.metrics.ndcg) {
      tuning.best = i;
      tuning.validation = result;
    }
  }
  return tuning;
}

}  // namespace nowrec::eval::replay

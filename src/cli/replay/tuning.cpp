// Validation-only parameter search.
#include "cli/replay/tuning.hpp"

#include <cstdio>

#include "cli/replay/results_json.hpp"
#include "nowrec/error.hpp"

namespace nowrec::cli::replay {

TuningResult tune_on_validation(const std::vector<MethodCandidate>& candidates,
                                const ReplayData& data, const LeaveOneOutSplit& split,
                                const ProtocolOptions& options,
                                const std::function<void(const std::string&)>& log) {
  if (candidates.empty()) {
    throw Error(ErrorCode::InvalidArgument, "replay: a method needs at least one candidate");
  }
  TuningResult tuning;
  tuning.trials = nlohmann::json::array();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto method = candidates[i].make(&split);
    ProtocolResult result = run_leave_one_out(data, split, *method, HeldOut::Validation, options);
    nlohmann::json trial = {{"settings", candidates[i].params}};
    trial["validation"] = metrics_json(result.metrics, options.k);
    tuning.trials.push_back(trial);
    char line[160];
    std::snprintf(line, sizeof line, "validation ndcg@%zu %.4f hr@%zu %.4f  ", options.k,
                  result.metrics.ndcg, options.k, result.metrics.hr);
    log(line + candidates[i].params.dump());
    if (i == 0 || result.metrics.ndcg > tuning.validation.metrics.ndcg) {
      tuning.best = i;
      tuning.validation = result;
    }
  }
  return tuning;
}

}  // namespace nowrec::cli::replay

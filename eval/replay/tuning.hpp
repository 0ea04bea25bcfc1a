// Choosing a method's parameters on validation cases (the leave-one-out validation targets or the
// temporal split's validation period), never on the test cases.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "replay/method.hpp"
#include "replay/protocols.hpp"

namespace nowrec::eval::replay {

struct TuningResult {
  std::size_t best = 0;       // index into the candidates
  ProtocolResult validation;  // of the best candidate
  nlohmann::json trials;      // per candidate: its params and validation metrics
};

// How a candidate is validated: makes the method (from the split it may learn from, or null for
// an online one) and runs it on the validation cases.
using Validation = std::function<ProtocolResult(const MethodCandidate&)>;

// The leave-one-out validation: the method learns from `split` and ranks each validation target.
Validation leave_one_out_validation(const ReplayData& data, const LeaveOneOutSplit& split,
                                    const ProtocolOptions& options);
// The temporal validation: the method learns online and ranks the events of [validation cut,
// test cut).
Validation temporal_validation(const ReplayData& data, const TemporalCuts& cuts,
                               const ProtocolOptions& options);

// Runs each candidate through `validate` and keeps the highest NDCG@10 (the earliest candidate on
// a tie). `log` receives one line per candidate. Throws Error(InvalidArgument) for an empty
// candidate list.
TuningResult tune_on_validation(const std::vector<MethodCandidate>& candidates,
                                const Validation& validate, std::size_t k,
                                const std::function<void(const std::string&)>& log);

}  // namespace nowrec::eval::replay

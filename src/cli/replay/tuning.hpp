// Choosing a method's parameters on the leave-one-out validation targets, never on the test
// targets, and running the choice under a protocol.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/replay/method.hpp"
#include "cli/replay/protocols.hpp"

namespace nowrec::cli::replay {

struct TuningResult {
  std::size_t best = 0;       // index into the candidates
  ProtocolResult validation;  // of the best candidate
  nlohmann::json trials;      // per candidate: its params and validation metrics
};

// Runs each candidate on the validation targets and keeps the highest NDCG@10 (the earliest
// candidate on a tie). `log` receives one line per candidate. Throws Error(InvalidArgument) for
// an empty candidate list.
TuningResult tune_on_validation(const std::vector<MethodCandidate>& candidates,
                                const ReplayData& data, const LeaveOneOutSplit& split,
                                const ProtocolOptions& options,
                                const std::function<void(const std::string&)>& log);

}  // namespace nowrec::cli::replay

// The two evaluation protocols: leave-one-out (per user, hold out the last two interactions) and
// streaming (every event predicted from the state just before it).
#pragma once

#include <cstddef>

#include "cli/replay/latency.hpp"
#include "cli/replay/method.hpp"
#include "cli/replay/ranking_metrics.hpp"
#include "cli/replay/split.hpp"

namespace nowrec::cli::replay {

struct ProtocolOptions {
  std::size_t k = 10;
  std::size_t limit_users = 0;  // evaluate only the first N users by id; 0: all
};

struct ProtocolResult {
  Metrics metrics;
  // Per prediction: the update that applied the user's latest event plus the method's serve time,
  // in wall time and in the thread's CPU time.
  LatencySummary latency;
  LatencySummary cpu;
};

enum class HeldOut { Validation, Test };

// Leave-one-out: each user's training portion (and, for the test target, the validation
// interaction) is observed in (timestamp, item) order, then the target is ranked at its own
// timestamp against the whole catalog minus the items observed. Cold-start: targets whose item no
// training portion holds.
ProtocolResult run_leave_one_out(const ReplayData& data, const LeaveOneOutSplit& split,
                                 ReplayMethod& method, HeldOut held_out,
                                 const ProtocolOptions& options);

// Streaming: every event in global (timestamp, user, item) order is first ranked from the state
// just before it, then observed. An event counts from its user's second event on (the first has
// no history to predict from); the catalog minus the user's earlier items is ranked. Cold-start:
// events whose item no earlier event holds.
ProtocolResult run_streaming(const ReplayData& data, ReplayMethod& method,
                             const ProtocolOptions& options);

}  // namespace nowrec::cli::replay

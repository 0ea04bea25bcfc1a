// The evaluation protocols: leave-one-out (per user, hold out the last two interactions),
// streaming (every event predicted from the state just before it) and temporal (streaming, with
// the cases after a global cut time and the models trained before it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "replay/latency.hpp"
#include "replay/method.hpp"
#include "replay/ranking_metrics.hpp"
#include "replay/split.hpp"

namespace nowrec::eval::replay {

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

// The global temporal split (tools/interaction_split.py's temporal_split): the test cut is the
// timestamp at position floor(quantile * n) of all n sorted timestamps, the validation cut the
// same quantile of the timestamps before the test cut. Events before the validation cut are what
// a trained model may learn from. Throws Error(InvalidArgument) for a quantile outside (0, 1) or
// when no event lies before a cut.
struct TemporalCuts {
  std::int64_t validation = 0;
  std::int64_t test = 0;
};
TemporalCuts temporal_cuts(const ReplayData& data, double quantile);

// Temporal: the streaming replay of every event, where only the events at or after `from` (and
// before `until`) are cases, each ranked from the state just before it; the replay stops at
// `until`. Counting methods learn online from every earlier event; a trained model only reads the
// history. Cold-start: cases whose item no event before `from` holds.
struct StreamRange {
  std::int64_t from = std::numeric_limits<std::int64_t>::min();
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
};
ProtocolResult run_temporal(const ReplayData& data, ReplayMethod& method, const StreamRange& range,
                            const ProtocolOptions& options);

}  // namespace nowrec::eval::replay

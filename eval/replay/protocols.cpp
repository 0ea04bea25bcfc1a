// Drives a method through the leave-one-out and streaming protocols and sums the metrics.
#include "replay/protocols.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "nowrec/error.hpp"

namespace nowrec::eval::replay {
namespace {

// Observes an event and returns how long it took.
Elapsed timed_observe(ReplayMethod& method, const ReplayEvent& event) {
  const Stopwatch stopwatch;
  method.observe(event);
  return stopwatch.elapsed();
}

struct LatencyRecorders {
  LatencyRecorder wall, cpu;
  void add(Elapsed update, const Elapsed& serve) {
    update += serve;
    wall.add(update.wall_ms);
    cpu.add(update.cpu_ms);
  }
};

std::size_t evaluated_user_count(std::size_t users, const ProtocolOptions& options) {
  return options.limit_users == 0 ? users : std::min(users, options.limit_users);
}

}  // namespace

ProtocolResult run_leave_one_out(const ReplayData& data, const LeaveOneOutSplit& split,
                                 ReplayMethod& method, HeldOut held_out,
                                 const ProtocolOptions& options) {
  MetricsAccumulator metrics(options.k, data.item_ids.size());
  LatencyRecorders latency;
  std::vector<std::uint32_t> seen;
  const std::size_t users = evaluated_user_count(split.users.size(), options);
  for (std::size_t u = 0; u < users; ++u) {
    const UserSplit& user = split.users[u];
    std::vector<std::uint32_t> history = user.train;
    if (held_out == HeldOut::Test) history.push_back(user.validation);
    const std::uint32_t target = held_out == HeldOut::Test ? user.test : user.validation;
    seen.clear();
    Elapsed update;
    for (std::uint32_t index : history) {
      update = timed_observe(method, data.events[index]);
      seen.push_back(data.events[index].row);
    }
    const ReplayEvent& event = data.events[target];
    const Prediction prediction = method.predict(
        {.user = user.user, .now = event.timestamp, .seen_rows = seen, .target_row = event.row});
    metrics.add(prediction.ranking, !split.in_training[event.row]);
    latency.add(update, prediction.serve);
  }
  return {
      .metrics = metrics.result(), .latency = latency.wall.summary(), .cpu = latency.cpu.summary()};
}

namespace {

// The streaming loop both streaming and temporal use. An item counts as known for the cold-start
// flag once an event before `cold_cut` holds it: streaming passes the largest time (every
// earlier event), temporal the start of its cases (the cut).
ProtocolResult replay_stream(const ReplayData& data, ReplayMethod& method, const StreamRange& range,
                             std::int64_t cold_cut, const ProtocolOptions& options) {
  MetricsAccumulator metrics(options.k, data.item_ids.size());
  LatencyRecorders latency;
  const std::size_t users = evaluated_user_count(data.users.size(), options);
  const std::unordered_set<std::int64_t> evaluated(data.users.begin(),
                                                   data.users.begin() + std::ptrdiff_t(users));
  struct UserState {
    std::vector<std::uint32_t> seen;
    Elapsed last_update;
  };
  std::unordered_map<std::int64_t, UserState> states;
  std::vector<bool> item_known(data.item_ids.size(), false);
  for (const ReplayEvent& event : data.events) {
    if (event.timestamp >= range.until) break;
    UserState& state = states[event.user];
    if (!state.seen.empty() && event.timestamp >= range.from && evaluated.contains(event.user)) {
      const Prediction prediction = method.predict({.user = event.user,
                                                    .now = event.timestamp,
                                                    .seen_rows = state.seen,
                                                    .target_row = event.row});
      metrics.add(prediction.ranking, !item_known[event.row]);
      latency.add(state.last_update, prediction.serve);
    }
    state.last_update = timed_observe(method, event);
    state.seen.push_back(event.row);
    if (event.timestamp < cold_cut) item_known[event.row] = true;
  }
  return {
      .metrics = metrics.result(), .latency = latency.wall.summary(), .cpu = latency.cpu.summary()};
}

std::int64_t quantile_time(std::vector<std::int64_t> times, double quantile) {
  std::sort(times.begin(), times.end());
  const auto position = static_cast<std::size_t>(std::floor(quantile * double(times.size())));
  return times[std::min(times.size() - 1, position)];
}

}  // namespace

ProtocolResult run_streaming(const ReplayData& data, ReplayMethod& method,
                             const ProtocolOptions& options) {
  return replay_stream(data, method, {}, std::numeric_limits<std::int64_t>::max(), options);
}

TemporalCuts temporal_cuts(const ReplayData& data, double quantile) {
  if (!(quantile > 0.0 && quantile < 1.0)) {
    throw Error(
        ErrorCode::InvalidArgument,
        "temporal split: the cut quantile must lie in (0, 1), got " + std::to_string(quantile));
  }
  if (data.events.empty()) {
    throw Error(ErrorCode::InvalidArgument, "temporal split: there are no interactions to cut");
  }
  std::vector<std::int64_t> times;
  times.reserve(data.events.size());
  for (const ReplayEvent& event : data.events) times.push_back(event.timestamp);
  TemporalCuts cuts;
  cuts.test = quantile_time(times, quantile);
  std::erase_if(times, [&](std::int64_t t) { return t >= cuts.test; });
  if (times.empty()) {
    throw Error(ErrorCode::InvalidArgument,
                "temporal split: no interaction lies before the test cut at " +
                    std::to_string(cuts.test) + " (quantile " + std::to_string(quantile) + ")");
  }
  cuts.validation = quantile_time(times, quantile);
  if (data.events.front().timestamp >= cuts.validation) {
    throw Error(ErrorCode::InvalidArgument,
                "temporal split: no interaction lies before the validation cut at " +
                    std::to_string(cuts.validation));
  }
  return cuts;
}

ProtocolResult run_temporal(const ReplayData& data, ReplayMethod& method, const StreamRange& range,
                            const ProtocolOptions& options) {
  return replay_stream(data, method, range, range.from, options);
}

}  // namespace nowrec::eval::replay

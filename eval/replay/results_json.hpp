// The results JSON shared with tools/interaction_split.py (write_results): one document per
// protocol with a "results" entry per method.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "replay/latency.hpp"
#include "replay/ranking_metrics.hpp"

namespace nowrec::eval::replay {

// {"cases", "hr@10", "ndcg@10", "mrr", "coverage@10", "cold_start": {"cases", "hr@10",
// "ndcg@10"}} for k = 10 (the key names carry k).
nlohmann::json metrics_json(const Metrics& metrics, std::size_t k);

// {"p50", "p99", "mean", "max", "count"} in milliseconds.
nlohmann::json latency_json(const LatencySummary& latency);

// One "results" entry: {"method", metrics_json..., "latency_ms" (wall), "cpu_ms" (the thread's
// CPU time), "settings"}.
nlohmann::json result_entry(const std::string& method, const Metrics& metrics,
                            const LatencySummary& latency, const LatencySummary& cpu,
                            const nlohmann::json& settings, std::size_t k);

}  // namespace nowrec::eval::replay

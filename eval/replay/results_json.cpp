// Metrics and latency in the shared results schema.
#include "replay/results_json.hpp"

namespace nowrec::eval::replay {

namespace {

// "hr@10" for ("hr", 10).
std::string at_k(const char* name, std::size_t k) {
  std::string key(name);
  key.push_back('@');
  key.append(std::to_string(k));
  return key;
}

}  // namespace

nlohmann::json metrics_json(const Metrics& metrics, std::size_t k) {
  return {{"cases", metrics.count},
          {at_k("hr", k), metrics.hr},
          {at_k("ndcg", k), metrics.ndcg},
          {"mrr", metrics.mrr},
          {at_k("coverage", k), metrics.coverage},
          {"cold_start",
           {{"cases", metrics.cold_start.count},
            {at_k("hr", k), metrics.cold_start.hr},
            {at_k("ndcg", k), metrics.cold_start.ndcg}}}};
}

nlohmann::json latency_json(const LatencySummary& latency) {
  return {{"p50", latency.p50_ms},
          {"p99", latency.p99_ms},
          {"mean", latency.mean_ms},
          {"max", latency.max_ms},
          {"count", latency.count}};
}

nlohmann::json result_entry(const std::string& method, const Metrics& metrics,
                            const LatencySummary& latency, const LatencySummary& cpu,
                            const nlohmann::json& settings, std::size_t k) {
  nlohmann::json entry = {{"method", method}};
  entry.update(metrics_json(metrics, k));
  entry["latency_ms"] = latency_json(latency);
  entry["cpu_ms"] = latency_json(cpu);
  entry["settings"] = settings;
  return entry;
}

}  // namespace nowrec::eval::replay

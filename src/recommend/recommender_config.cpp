// RecommenderConfig: the range check, and the JSON file a tuning run writes and a server reads.
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/atomic_file.hpp"
#include "encoder/thread_count.hpp"
#include "nowrec/error.hpp"
#include "nowrec/recommender.hpp"
#include "recommend/co_visitation_impl.hpp"
#include "recommend/recommender_config_check.hpp"

namespace nowrec {
namespace recommend {

void check_config(const RecommenderConfig& c, const std::string& where, ErrorCode code) {
  const auto weight = [&](float value, const char* field) {
    if (!std::isfinite(value) || value < 0.0f) {
      throw Error(code, where + ": " + field + " must be finite and not negative, got " +
                            std::to_string(value));
    }
  };
  weight(c.short_term, "short_term");
  weight(c.long_term, "long_term");
  weight(c.clusters, "clusters");
  weight(c.clusters_min, "clusters_min");
  if (c.clusters_min > c.clusters) {
    throw Error(code, where + ": clusters_min (" + std::to_string(c.clusters_min) +
                          ") must not be above clusters (" + std::to_string(c.clusters) + ")");
  }
  weight(c.predicted, "predicted");
  weight(c.negative, "negative");
  weight(c.co_visitation, "co_visitation");
  // A negative prior weight is a real choice (e.g. to push popular items down).
  if (!std::isfinite(c.prior)) throw Error(code, where + ": prior must be finite");
  if (!(c.mmr_lambda >= 0.0f && c.mmr_lambda <= 1.0f)) {
    throw Error(code, where + ": mmr_lambda must be in [0, 1]");
  }
  encoder::check_thread_count(c.threads, where + ": threads", code);
  try {
    check_co_visitation_options(c.co_visitation_options);
  } catch (const Error& e) {
    throw Error(code, where + ": co_visitation_options: " + e.what());
  }
}

}  // namespace recommend

namespace {

const char* aggregation_name(Aggregation aggregation) {
  return aggregation == Aggregation::Max ? "max" : "weighted_sum";
}

double number_field(const std::string& where, const std::string& field,
                    const nlohmann::json& value) {
  if (!value.is_number()) {
    throw Error(ErrorCode::InvalidFormat, where + ": field '" + field + "' must be a number");
  }
  return value.get<double>();
}

std::size_t count_field(const std::string& where, const std::string& field,
                        const nlohmann::json& value, std::size_t most = 1'000'000'000) {
  const double number = number_field(where, field, value);
  if (number != std::floor(number) || number < 0 || number > double(most)) {
    throw Error(ErrorCode::InvalidFormat, where + ": field '" + field +
                                              "' must be a whole number in [0, " +
                                              std::to_string(most) + "]");
  }
  return std::size_t(number);
}

// The shortest decimal that reads back as the same float (0.1f as 0.1, not 0.10000000149011612),
// unless reading it as a double first, as load() does, would round it to another float: then the
// float's exact value. Either way load() gets the float back bit for bit.
double decimal(float value) {
  char text[32];
  const auto written = std::to_chars(text, text + sizeof text, value);
  double shortest = 0.0;
  const auto read = std::from_chars(text, written.ptr, shortest);
  if (written.ec == std::errc() && read.ec == std::errc() && float(shortest) == value) {
    return shortest;
  }
  return double(value);
}

CoVisitationOptions load_co_visitation_options(const std::string& where,
                                               const nlohmann::json& json) {
  const std::string prefix = "co_visitation_options.";
  if (!json.is_object()) {
    throw Error(ErrorCode::InvalidFormat,
                where + ": field 'co_visitation_options' must be an object");
  }
  CoVisitationOptions o;
  for (const auto& [field, value] : json.items()) {
    const std::string name = prefix + field;
    if (field == "pair_distance") {
      o.pair_distance = count_field(where, name, value);
    } else if (field == "distance_decay") {
      o.distance_decay = float(number_field(where, name, value));
    } else if (field == "half_life_seconds") {
      o.half_life_seconds = number_field(where, name, value);
    } else if (field == "max_neighbours") {
      o.max_neighbours = count_field(where, name, value);
    } else if (field == "shards") {
      o.shards = count_field(where, name, value, recommend::kMaxCoVisitationShards);
    } else if (field == "voters") {
      o.voters = count_field(where, name, value);
    } else if (field == "voter_decay") {
      o.voter_decay = float(number_field(where, name, value));
    } else {
      throw Error(ErrorCode::InvalidFormat, where + ": unknown field '" + name + "'");
    }
  }
  return o;
}

}  // namespace

RecommenderConfig RecommenderConfig::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrorCode::Io, path.string() + ": cannot open the recommender config");
  std::stringstream text;
  text << in.rdbuf();
  const std::string where = path.string();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {  // syntax errors and numbers out of range
    throw Error(ErrorCode::InvalidFormat, where + ": not valid JSON: " + e.what());
  }
  if (!json.is_object()) throw Error(ErrorCode::InvalidFormat, where + ": not a JSON object");

  RecommenderConfig config;
  const auto number = [&](const std::string& field, const nlohmann::json& value) {
    return number_field(where, field, value);
  };
  const auto boolean = [&](const std::string& field, const nlohmann::json& value) {
    if (!value.is_boolean()) {
      throw Error(ErrorCode::InvalidFormat,
                  where + ": field '" + field + "' must be true or false");
    }
    return value.get<bool>();
  };
  for (const auto& [field, value] : json.items()) {
    if (field == "short_term") {
      config.short_term = float(number(field, value));
    } else if (field == "long_term") {
      config.long_term = float(number(field, value));
    } else if (field == "clusters") {
      config.clusters = float(number(field, value));
    } else if (field == "clusters_min") {
      config.clusters_min = float(number(field, value));
    } else if (field == "predicted") {
      config.predicted = float(number(field, value));
    } else if (field == "negative") {
      config.negative = float(number(field, value));
    } else if (field == "co_visitation") {
      config.co_visitation = float(number(field, value));
    } else if (field == "prior") {
      config.prior = float(number(field, value));
    } else if (field == "mmr_lambda") {
      config.mmr_lambda = float(number(field, value));
    } else if (field == "threads") {
      const double threads = number(field, value);
      encoder::check_thread_count(threads, where + ": field 'threads'", ErrorCode::InvalidFormat);
      config.threads = int(threads);
    } else if (field == "learn_co_visitation") {
      config.learn_co_visitation = boolean(field, value);
    } else if (field == "calibrate") {
      config.calibrate = boolean(field, value);
    } else if (field == "exclude_seen") {
      config.exclude_seen = boolean(field, value);
    } else if (field == "co_visitation_options") {
      config.co_visitation_options = load_co_visitation_options(where, value);
    } else if (field == "aggregation") {
      const std::string name = value.is_string() ? value.get<std::string>() : "";
      if (name == "max") {
        config.aggregation = Aggregation::Max;
      } else if (name == "weighted_sum") {
        config.aggregation = Aggregation::WeightedSum;
      } else {
        throw Error(ErrorCode::InvalidFormat,
                    where + ": field 'aggregation' must be \"max\" or \"weighted_sum\"");
      }
    } else {
      throw Error(ErrorCode::InvalidFormat, where + ": unknown field '" + field + "'");
    }
  }
  recommend::check_config(config, where, ErrorCode::InvalidFormat);
  return config;
}

void RecommenderConfig::save(const std::filesystem::path& path) const {
  const nlohmann::json json = {{"short_term", decimal(short_term)},
                               {"long_term", decimal(long_term)},
                               {"clusters", decimal(clusters)},
                               {"clusters_min", decimal(clusters_min)},
                               {"predicted", decimal(predicted)},
                               {"negative", decimal(negative)},
                               {"aggregation", aggregation_name(aggregation)},
                               {"co_visitation", decimal(co_visitation)},
                               {"co_visitation_options",
                                {{"pair_distance", co_visitation_options.pair_distance},
                                 {"distance_decay", decimal(co_visitation_options.distance_decay)},
                                 {"half_life_seconds", co_visitation_options.half_life_seconds},
                                 {"max_neighbours", co_visitation_options.max_neighbours},
                                 {"shards", co_visitation_options.shards},
                                 {"voters", co_visitation_options.voters},
                                 {"voter_decay", decimal(co_visitation_options.voter_decay)}}},
                               {"prior", decimal(prior)},
                               {"calibrate", calibrate},
                               {"learn_co_visitation", learn_co_visitation},
                               {"exclude_seen", exclude_seen},
                               {"mmr_lambda", decimal(mmr_lambda)},
                               {"threads", threads}};
  common::write_file_atomically(path, json.dump(2) + '\n');
}

}  // namespace nowrec

// Reading the learned next-interest model's section of config.json.
#include "interest/next_interest_config.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "model/json_fields.hpp"
#include "nowrec/error.hpp"

namespace nowrec::interest {
namespace {

// 1: text-only item vectors; 2: adds the per-item id embeddings (`id_items`).
constexpr int kFormatVersion = 2;
constexpr const char* kSection = "nowrec_next_interest";

std::vector<std::string> read_actions(const json_fields::FieldReader& fields) {
  const nlohmann::json* value = fields.find("actions");
  if (value == nullptr) fields.fail("actions", "is missing");
  if (!value->is_array()) fields.fail("actions", "must be an array of action names");
  std::vector<std::string> actions;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const nlohmann::json& name = (*value)[i];
    const std::string field = "actions[" + std::to_string(i) + "]";
    if (!name.is_string() || name.get<std::string>().empty()) {
      fields.fail(field, "must be a non-empty string");
    }
    if (std::find(actions.begin(), actions.end(), name.get<std::string>()) != actions.end()) {
      fields.fail(field, "repeats the action '" + name.get<std::string>() + "'");
    }
    actions.push_back(name.get<std::string>());
  }
  return actions;
}

float read_weight(const json_fields::FieldReader& fields, std::string_view field, double fallback,
                  bool non_negative) {
  const double value = fields.optional_number(field).value_or(fallback);
  if (!std::isfinite(value) || std::abs(value) > 1e30 || (non_negative && value < 0)) {
    fields.fail(field, non_negative ? "must be a finite number >= 0" : "must be a finite number");
  }
  return static_cast<float>(value);
}

}  // namespace

NextInterestConfig parse_next_interest_config(std::string_view text, const std::string& label) {
  const nlohmann::json document = json_fields::parse_object(text, label);
  const auto section = json_fields::FieldReader(document, label).optional_object(kSection);
  if (!section) {
    throw Error(ErrorCode::InvalidModel,
                label + ": field '" + kSection +
                    "' is missing: the folder is not a next-interest model written by "
                    "tools/train_next_interest.py");
  }
  const json_fields::FieldReader& fields = *section;
  const int version = fields.required_positive_int("format_version");
  if (version > kFormatVersion) {
    throw Error(ErrorCode::Unsupported,
                label + ": field '" + kSection + ".format_version' is " + std::to_string(version) +
                    "; this build reads versions 1 to " + std::to_string(kFormatVersion));
  }
  NextInterestConfig config;
  config.window = static_cast<std::size_t>(fields.required_positive_int("window"));
  config.text_dim = static_cast<std::size_t>(fields.required_positive_int("text_dim"));
  config.item_space_dim = static_cast<std::size_t>(fields.required_positive_int("item_space_dim"));
  if (config.item_space_dim > config.text_dim) {
    fields.fail("item_space_dim", "(" + std::to_string(config.item_space_dim) +
                                      ") must not exceed text_dim (" +
                                      std::to_string(config.text_dim) + ")");
  }
  config.item_mlp_hidden =
      static_cast<std::size_t>(fields.optional_non_negative_int("item_mlp_hidden").value_or(0));
  if (version >= 2) {
    config.id_items =
        static_cast<std::size_t>(fields.optional_non_negative_int("id_items").value_or(0));
  }
  config.actions = read_actions(fields);
  const int buckets = fields.required_positive_int("gap_buckets");
  if (buckets < 2) fields.fail("gap_buckets", "must be at least 2");
  config.gap_buckets = static_cast<std::size_t>(buckets);
  config.prediction_weight = read_weight(fields, "prediction_weight", 1.0, true);
  config.prior_weight = read_weight(fields, "prior_weight", 0.0, false);
  return config;
}

std::size_t gap_bucket(std::int64_t previous, std::int64_t current, std::size_t buckets) noexcept {
  // The difference of two int64 values fits in a uint64 once it is known to be positive.
  const std::uint64_t gap = current > previous ? static_cast<std::uint64_t>(current) -
                                                     static_cast<std::uint64_t>(previous)
                                               : 0;
  // bit_width(gap + 1) == 1 + floor(log2(gap + 1)); only a gap of 2^64 - 1 would wrap, to 0.
  const std::size_t bucket =
      gap == UINT64_MAX ? 64 : static_cast<std::size_t>(std::bit_width(gap + 1));
  return std::min(buckets - 1, bucket);
}

}  // namespace nowrec::interest

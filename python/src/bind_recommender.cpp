// RecommenderConfig and Recommender: events in, an explained top k out, exactly as a C++ engine
// calls them, with the GIL released.
#include <nanobind/nanobind.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "float32.hpp"
#include "nowrec/recommender.hpp"
#include "tracker_handle.hpp"

namespace nowrec::python {
namespace {

struct RequestArgs {
  ArrayView<std::int64_t> exclude, allow;
  ArrayView<std::uint32_t> categories;
  RecommendRequest request;
  RequestArgs(std::size_t k, const std::optional<ArrayArg<std::int64_t>>& exclude_arg,
              const std::optional<ArrayArg<std::int64_t>>& allow_arg,
              const std::optional<ArrayArg<std::uint32_t>>& categories_arg, bool explain)
      : exclude(view_optional_array<std::int64_t>(exclude_arg, "exclude")),
        allow(view_optional_array<std::int64_t>(allow_arg, "allow")),
        categories(view_optional_array<std::uint32_t>(categories_arg, "categories")) {
    request = {.k = k,
               .exclude = exclude.values,
               .allow = allow.values,
               .categories = categories.values,
               .explain = explain};
  }
};

// A float32 field set from a Python float through to_float32, so that a value float32 cannot
// hold is refused rather than stored as inf or 0.
template <class Class>
void def_float32(nb::class_<Class>& cls, const char* name, float Class::*field) {
  cls.def_prop_rw(
      name, [field](const Class& object) { return object.*field; },
      [field, name](Class& object, double value) { object.*field = to_float32(value, name); });
}

}  // namespace

void bind_recommender(nb::module_& m) {
  nb::enum_<Signal>(m, "Signal", "Which signal contributed most to an item's score.")
      .value("Interest", Signal::Interest)
      .value("CoVisitation", Signal::CoVisitation)
      .value("Prior", Signal::Prior);

  nb::class_<CoVisitationOptions> co_visitation_options(
      m, "CoVisitationOptions", "The live item-to-item graph's settings (docs/recommender.md).");
  co_visitation_options.def(nb::init<>())
      .def_rw("pair_distance", &CoVisitationOptions::pair_distance);
  def_float32(co_visitation_options, "distance_decay", &CoVisitationOptions::distance_decay);
  co_visitation_options.def_rw("half_life_seconds", &CoVisitationOptions::half_life_seconds)
      .def_rw("max_neighbours", &CoVisitationOptions::max_neighbours)
      .def_rw("shards", &CoVisitationOptions::shards)
      .def_rw("voters", &CoVisitationOptions::voters);
  def_float32(co_visitation_options, "voter_decay", &CoVisitationOptions::voter_decay);

  nb::class_<RecommenderConfig> recommender_config(
      m, "RecommenderConfig",
      "How the signals add up to an item's score (the fields of docs/recommender.md); load() "
      "reads the JSON file nowrec replay --write-config writes.");
  recommender_config.def(nb::init<>());
  def_float32(recommender_config, "short_term", &RecommenderConfig::short_term);
  def_float32(recommender_config, "long_term", &RecommenderConfig::long_term);
  def_float32(recommender_config, "clusters", &RecommenderConfig::clusters);
  def_float32(recommender_config, "clusters_min", &RecommenderConfig::clusters_min);
  def_float32(recommender_config, "predicted", &RecommenderConfig::predicted);
  def_float32(recommender_config, "negative", &RecommenderConfig::negative);
  recommender_config.def_rw("aggregation", &RecommenderConfig::aggregation);
  def_float32(recommender_config, "co_visitation", &RecommenderConfig::co_visitation);
  recommender_config.def_rw("co_visitation_options", &RecommenderConfig::co_visitation_options);
  def_float32(recommender_config, "prior", &RecommenderConfig::prior);
  recommender_config.def_rw("calibrate", &RecommenderConfig::calibrate)
      .def_rw("learn_co_visitation", &RecommenderConfig::learn_co_visitation)
      .def_rw("exclude_seen", &RecommenderConfig::exclude_seen);
  def_float32(recommender_config, "mmr_lambda", &RecommenderConfig::mmr_lambda);
  recommender_config.def_rw("threads", &RecommenderConfig::threads)
      .def_static("load", &RecommenderConfig::load, nb::arg("path"),
                  "Reads a JSON config; raises nowrec.Error (InvalidFormat) naming the file and "
                  "field.")
      .def("save", &RecommenderConfig::save, nb::arg("path"), "Writes every field atomically.");

  nb::class_<Recommendation>(m, "Recommendation",
                             "One recommended item: score = interest_score + co_visitation_score "
                             "+ prior_score, and the signal that put it there.")
      .def_ro("item", &Recommendation::item)
      .def_ro("score", &Recommendation::score)
      .def_ro("interest_score", &Recommendation::interest_score)
      .def_ro("interest_match", &Recommendation::interest_match)
      .def_ro("negative_score", &Recommendation::negative_score)
      .def_ro("co_visitation_score", &Recommendation::co_visitation_score)
      .def_ro("prior_score", &Recommendation::prior_score)
      .def_ro("signal", &Recommendation::signal)
      .def_ro("interest_kind", &Recommendation::interest_kind)
      .def_prop_ro(
          "interest_index",
          [](const Recommendation& r) -> std::optional<std::size_t> {
            if (r.interest_index == Recommendation::npos) return std::nullopt;
            return r.interest_index;
          },
          "Index into InterestTracker.interests() of the interest that scored it; None if none.")
      .def_prop_ro(
          "co_visited_with",
          [](const Recommendation& r) -> std::optional<std::int64_t> {
            if (r.co_visited_with < 0) return std::nullopt;
            return r.co_visited_with;
          },
          "The recent item whose co-visitation vote was largest; None if none.")
      .def("__repr__", [](const Recommendation& r) {
        return "Recommendation(item=" + std::to_string(r.item) +
               ", score=" + std::to_string(r.score) + ")";
      });

  nb::class_<CoVisitationStats>(m, "CoVisitationStats")
      .def_ro("items", &CoVisitationStats::items)
      .def_ro("edges", &CoVisitationStats::edges)
      .def_ro("pairs_added", &CoVisitationStats::pairs_added)
      .def_ro("evictions", &CoVisitationStats::evictions)
      .def_ro("memory_bytes", &CoVisitationStats::memory_bytes);

  nb::class_<Recommender>(
      m, "Recommender",
      "One call from a user's events to an explained top k: the tracker's interests (the learned "
      "prediction among them), a live co-visitation graph and the items' priors fused in one "
      "exact scan. observe() and recommend() may run concurrently from Python threads.")
      .def(
          "__init__",
          [](Recommender* self, const ItemIndex& index, TrackerHandle& tracker,
             const RecommenderConfig& config) {
            new (self) Recommender(index, *tracker.tracker, config);
          },
          nb::arg("index"), nb::arg("tracker"), nb::arg("config") = RecommenderConfig(),
          nb::keep_alive<1, 2>(), nb::keep_alive<1, 3>(),
          "Raises nowrec.Error (InvalidArgument) naming the config field at fault, or for an "
          "index whose dim differs from the tracker's.")
      .def(
          "observe",
          [](Recommender& r, std::string user, std::int64_t timestamp, std::int64_t item,
             std::optional<ArrayArg<float>> embedding, std::string action, double weight,
             std::optional<double> value, std::optional<std::string> text, std::uint64_t sequence) {
            const auto vector = view_optional_array<float>(embedding, "embedding");
            const InterestEvent event = event_of(user, timestamp, item, vector.values, action,
                                                 weight, value, text, sequence);
            nb::gil_scoped_release release;
            return r.observe(event);
          },
          nb::arg("user"), nb::arg("timestamp"), nb::kw_only(), nb::arg("item") = -1,
          nb::arg("embedding").none() = nb::none(), nb::arg("action") = "", nb::arg("weight") = 1.0,
          nb::arg("value").none() = nb::none(), nb::arg("text").none() = nb::none(),
          nb::arg("sequence") = 0,
          "Applies the event to the tracker (InterestTracker.update's arguments) and, when it "
          "names an item, to the co-visitation graph.")
      .def(
          "recommend",
          [](const Recommender& r, std::string user, std::int64_t now, std::size_t k,
             std::optional<ArrayArg<std::int64_t>> exclude,
             std::optional<ArrayArg<std::int64_t>> allow,
             std::optional<ArrayArg<std::uint32_t>> categories, bool explain) {
            const RequestArgs args(k, exclude, allow, categories, explain);
            nb::gil_scoped_release release;
            return r.recommend(user, now, args.request);
          },
          nb::arg("user"), nb::arg("now"), nb::arg("k") = 10, nb::kw_only(),
          nb::arg("exclude").none() = nb::none(), nb::arg("allow").none() = nb::none(),
          nb::arg("categories").none() = nb::none(), nb::arg("explain") = true,
          "The user's top k at `now` (the recent window's items excluded unless the config says "
          "otherwise), best first.")
      .def(
          "recommend_batch",
          [](const Recommender& r, const std::vector<std::string>& users, std::int64_t now,
             std::size_t k, std::optional<ArrayArg<std::int64_t>> exclude,
             std::optional<ArrayArg<std::int64_t>> allow,
             std::optional<ArrayArg<std::uint32_t>> categories, bool explain) {
            const RequestArgs args(k, exclude, allow, categories, explain);
            const std::vector<std::string_view> views(users.begin(), users.end());
            nb::gil_scoped_release release;
            return r.recommend(std::span<const std::string_view>(views), now, args.request);
          },
          nb::arg("users"), nb::arg("now"), nb::arg("k") = 10, nb::kw_only(),
          nb::arg("exclude").none() = nb::none(), nb::arg("allow").none() = nb::none(),
          nb::arg("categories").none() = nb::none(), nb::arg("explain") = true,
          "recommend() for many users in one catalog scan; result i is users[i]'s.")
      .def(
          "forget", [](Recommender& r, std::string user) { return r.forget(user); },
          nb::arg("user"))
      .def_prop_ro("config", [](const Recommender& r) { return RecommenderConfig(r.config()); })
      .def_prop_ro(
          "co_visitation_stats",
          [](const Recommender& r) -> std::optional<CoVisitationStats> {
            if (r.co_visitation() == nullptr) return std::nullopt;
            return r.co_visitation()->stats();
          },
          "The co-visitation graph's size; None when the config's co_visitation weight is 0.");
}

}  // namespace nowrec::python

// ItemIndex and Ranker: the catalog from NumPy arrays (read in place) and exact top-k, batched,
// with the GIL released during writes, saves and scans.
#include <nanobind/nanobind.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "bindings.hpp"
#include "float32.hpp"
#include "nowrec/error.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/ranker.hpp"

namespace nowrec::python {
namespace {

// Per-item attributes from Python lists (categories: one list of ints per item; available: one
// bool per item); empty when both are None.
struct Attributes {
  std::vector<std::vector<std::uint32_t>> categories;
  std::vector<ItemAttributes> items;

  Attributes(std::optional<std::vector<std::vector<std::uint32_t>>> categories_arg,
             std::optional<std::vector<bool>> available_arg, std::size_t count) {
    if (!categories_arg && !available_arg) return;
    if (categories_arg) {
      categories = std::move(*categories_arg);
      if (categories.size() != count) {
        throw nb::value_error(("categories has " + std::to_string(categories.size()) +
                               " entries for " + std::to_string(count) + " ids")
                                  .c_str());
      }
    }
    std::vector<bool> available(count, true);
    if (available_arg) {
      available = std::move(*available_arg);
      if (available.size() != count) {
        throw nb::value_error(("available has " + std::to_string(available.size()) +
                               " entries for " + std::to_string(count) + " ids")
                                  .c_str());
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      items.push_back(
          {categories.empty() ? std::span<const std::uint32_t>() : categories[i], available[i]});
    }
  }
};

// ids and vectors checked against each other and the index's dim.
struct Rows {
  ArrayView<std::int64_t> ids;
  ArrayView<float> vectors;
  Rows(const ItemIndex& index, ArrayArg<std::int64_t> ids_arg, ArrayArg<float> vectors_arg)
      : ids(view_array<std::int64_t>(ids_arg, "ids", 1)),
        vectors(view_array<float>(vectors_arg, "vectors", 2, index.dim())) {
    if (vectors.rows != ids.rows) {
      throw nb::value_error(("vectors has " + std::to_string(vectors.rows) + " rows for " +
                             std::to_string(ids.rows) + " ids")
                                .c_str());
    }
  }
};

// The filters every request of one rank() call shares.
struct SharedFilters {
  ArrayView<std::int64_t> exclude, allow;
  ArrayView<std::uint32_t> categories;
  ArrayView<float> negative;
  SharedFilters(const std::optional<ArrayArg<std::int64_t>>& exclude_arg,
                const std::optional<ArrayArg<std::int64_t>>& allow_arg,
                const std::optional<ArrayArg<std::uint32_t>>& categories_arg,
                const std::optional<ArrayArg<float>>& negative_arg)
      : exclude(view_optional_array<std::int64_t>(exclude_arg, "exclude")),
        allow(view_optional_array<std::int64_t>(allow_arg, "allow")),
        categories(view_optional_array<std::uint32_t>(categories_arg, "categories")),
        negative(view_optional_array<float>(negative_arg, "negative")) {}
  void apply(RankRequest& request, double negative_weight, double prior_weight) const {
    request.exclude = exclude.values;
    request.allow = allow.values;
    request.categories = categories.values;
    request.negative = negative.values;
    request.negative_weight = to_float32(negative_weight, "negative_weight");
    request.prior_weight = to_float32(prior_weight, "prior_weight");
  }
};

using IdArray = nb::ndarray<nb::numpy, std::int64_t>;
using ScoreArray = nb::ndarray<nb::numpy, float>;

// (ids int64 (rows, k), scores float32 (rows, k)), or of shape (k,) when `squeeze`; slots a
// filter left empty hold -1 and -inf.
std::pair<IdArray, ScoreArray> ranked(const std::vector<ScoredItem>& results,
                                      const std::vector<std::size_t>& counts, std::size_t k,
                                      bool squeeze) {
  std::vector<std::int64_t> ids(results.size(), -1);
  std::vector<float> scores(results.size(), -std::numeric_limits<float>::infinity());
  for (std::size_t r = 0; r < counts.size(); ++r) {
    for (std::size_t j = 0; j < counts[r]; ++j) {
      ids[r * k + j] = results[r * k + j].id;
      scores[r * k + j] = results[r * k + j].score;
    }
  }
  const std::size_t rows = counts.size();
  if (squeeze) return {to_numpy(std::move(ids), {k}), to_numpy(std::move(scores), {k})};
  return {to_numpy(std::move(ids), {rows, k}), to_numpy(std::move(scores), {rows, k})};
}

// The result slots `rows` requests of k take, checked before any is allocated: a k beyond the
// index could otherwise ask for gigabytes before the Ranker refuses it. k is checked against the
// index's size now (the Ranker checks again against the snapshot it ranks).
std::size_t result_slots(const Ranker& ranker, std::size_t rows, std::size_t k) {
  return checked_result_slots(k, ranker.index().size(), rows);
}

// One user's interests ranked (Ranker.rank_interests and rank_interests_calibrated).
struct InterestRanking {
  std::vector<ScoredItem> results;
  std::vector<std::size_t> counts;
  std::vector<float> best_matches;  // calibrated only
};

InterestRanking rank_interests(const Ranker& ranker, ArrayArg<float> interests,
                               ArrayArg<float> weights, std::size_t k, Aggregation aggregation,
                               std::optional<ArrayArg<std::int64_t>> exclude,
                               std::optional<ArrayArg<std::int64_t>> allow,
                               std::optional<ArrayArg<std::uint32_t>> categories,
                               double prior_weight, std::optional<ArrayArg<float>> negative,
                               double negative_weight, int threads, bool calibrate) {
  const std::size_t slots = result_slots(ranker, 1, k);
  const std::size_t dim = ranker.index().dim();
  const auto vectors = view_array<float>(interests, "interests", 2, dim);
  const auto w = view_array<float>(weights, "weights", 1);
  if (w.rows != vectors.rows) {
    throw nb::value_error(("weights has " + std::to_string(w.rows) + " entries for " +
                           std::to_string(vectors.rows) + " interests")
                              .c_str());
  }
  std::vector<WeightedInterest> weighted;
  for (std::size_t r = 0; r < vectors.rows; ++r) {
    weighted.push_back({vectors.values.subspan(r * dim, dim), w.values[r]});
  }
  const SharedFilters filters(exclude, allow, categories, negative);
  InterestRanking out;
  RankRequest request{.interests = weighted};
  filters.apply(request, negative_weight, prior_weight);
  if (calibrate) {
    out.best_matches.resize(weighted.size());
    request.calibrate = true;
    request.best_matches = out.best_matches;
  }
  out.results.resize(slots);
  out.counts.resize(1);
  nb::gil_scoped_release release;
  ranker.rank(std::span(&request, 1), {.k = k, .aggregation = aggregation, .threads = threads},
              out.results, out.counts);
  return out;
}

// Ranker.rank_interests (ids, scores) and, with Calibrated, rank_interests_calibrated (ids,
// scores, best_matches): one signature, bound with one argument list (def_rank_interests).
template <bool Calibrated>
auto rank_interests_binding(const Ranker& ranker, ArrayArg<float> interests,
                            ArrayArg<float> weights, std::size_t k, Aggregation aggregation,
                            std::optional<ArrayArg<std::int64_t>> exclude,
                            std::optional<ArrayArg<std::int64_t>> allow,
                            std::optional<ArrayArg<std::uint32_t>> categories, double prior_weight,
                            std::optional<ArrayArg<float>> negative, double negative_weight,
                            int threads) {
  InterestRanking ranking =
      rank_interests(ranker, interests, weights, k, aggregation, exclude, allow, categories,
                     prior_weight, negative, negative_weight, threads, Calibrated);
  auto [ids, scores] = ranked(ranking.results, ranking.counts, k, true);
  if constexpr (Calibrated) {
    const std::size_t n = ranking.best_matches.size();
    return std::make_tuple(ids, scores, to_numpy(std::move(ranking.best_matches), {n}));
  } else {
    return std::make_tuple(ids, scores);
  }
}

template <typename Binding>
void def_rank_interests(nb::class_<Ranker>& ranker, const char* name, Binding binding,
                        const char* doc) {
  ranker.def(name, binding, nb::arg("interests"), nb::arg("weights"), nb::arg("k") = 10,
             nb::kw_only(), nb::arg("aggregation") = Aggregation::Max,
             nb::arg("exclude").none() = nb::none(), nb::arg("allow").none() = nb::none(),
             nb::arg("categories").none() = nb::none(), nb::arg("prior_weight") = 0.0,
             nb::arg("negative").none() = nb::none(), nb::arg("negative_weight") = 0.0,
             nb::arg("threads") = 0, doc);
}

// ItemIndex.add and .update: the rows and attributes checked, then written without the GIL.
template <void (ItemIndex::*write)(std::span<const std::int64_t>, std::span<const float>,
                                   std::span<const ItemAttributes>)>
void write_rows(ItemIndex& index, ArrayArg<std::int64_t> ids, ArrayArg<float> vectors,
                std::optional<std::vector<std::vector<std::uint32_t>>> categories,
                std::optional<std::vector<bool>> available) {
  const Rows rows(index, ids, vectors);
  const Attributes attributes(std::move(categories), std::move(available), rows.ids.rows);
  nb::gil_scoped_release release;
  (index.*write)(rows.ids.values, rows.vectors.values, attributes.items);
}

}  // namespace

void bind_catalog(nb::module_& m) {
  nb::enum_<StorageType>(m, "StorageType",
                         "How the index stores each embedding: F32, BF16 (half the bytes) or Int8 "
                         "(a quarter, one scale per row).")
      .value("F32", StorageType::F32)
      .value("BF16", StorageType::BF16)
      .value("Int8", StorageType::Int8);
  nb::enum_<Aggregation>(m, "Aggregation", "How several interests' scores combine per item.")
      .value("Max", Aggregation::Max)
      .value("WeightedSum", Aggregation::WeightedSum);

  nb::class_<ItemIndex>(
      m, "ItemIndex",
      "The catalog: items with an int64 id, an embedding and optional categories and availability. "
      "Writers publish immutable snapshots, so rankings never see half a write. Every method may "
      "be called from any thread.")
      .def(
          "__init__",
          [](ItemIndex* self, std::size_t dim, StorageType storage) {
            new (self) ItemIndex(dim, {.storage = storage});
          },
          nb::arg("dim"), nb::arg("storage") = StorageType::F32)
      .def("add", write_rows<&ItemIndex::add>, nb::arg("ids"), nb::arg("vectors"),
           nb::arg("categories").none() = nb::none(), nb::arg("available").none() = nb::none(),
           "Adds items: ids int64 (n,), vectors float32 (n, dim), read in place; categories a list "
           "of n lists of ints, available a list of n bools. Raises nowrec.Error (InvalidArgument) "
           "for a non-finite value or an id already present; nothing changes then.")
      .def("update", write_rows<&ItemIndex::update>, nb::arg("ids"), nb::arg("vectors"),
           nb::arg("categories").none() = nb::none(), nb::arg("available").none() = nb::none(),
           "Replaces existing items' embeddings (and attributes when given). Raises nowrec.Error "
           "(NotFound) for an unknown id.")
      .def(
          "remove",
          [](ItemIndex& index, ArrayArg<std::int64_t> ids) {
            const auto view = view_array<std::int64_t>(ids, "ids", 1);
            nb::gil_scoped_release release;
            index.remove(view.values);
          },
          nb::arg("ids"), "Removes items. Raises nowrec.Error (NotFound) for an unknown id.")
      .def(
          "set_priors",
          [](ItemIndex& index, ArrayArg<std::int64_t> ids, ArrayArg<float> priors) {
            const auto id_view = view_array<std::int64_t>(ids, "ids", 1);
            const auto prior_view = view_array<float>(priors, "priors", 1);
            nb::gil_scoped_release release;
            index.set_priors(id_view.values, prior_view.values);
          },
          nb::arg("ids"), nb::arg("priors"),
          "Sets each item's prior (e.g. log popularity), added to its score times a request's "
          "prior_weight.")
      .def("__contains__", &ItemIndex::contains, nb::arg("id"))
      .def("contains", &ItemIndex::contains, nb::arg("id"))
      .def(
          "read",
          [](const ItemIndex& index,
             std::int64_t id) -> std::optional<std::pair<ScoreArray, float>> {
            std::vector<float> vector(index.dim());
            const std::optional<float> prior = index.read(id, vector);
            if (!prior) return std::nullopt;
            const std::size_t dim = index.dim();
            return std::pair(to_numpy(std::move(vector), {dim}), *prior);
          },
          nb::arg("id"),
          "(embedding decoded to float32, prior) of an item, or None for an unknown id.")
      .def("__len__", &ItemIndex::size)
      .def_prop_ro("size", &ItemIndex::size)
      .def_prop_ro("dim", &ItemIndex::dim)
      .def_prop_ro("storage", [](const ItemIndex& index) { return index.options().storage; })
      .def("save", &ItemIndex::save, nb::arg("path"), nb::call_guard<nb::gil_scoped_release>(),
           "Writes a versioned, checksummed file atomically (temporary file, fsync, rename).")
      .def_static("load", &ItemIndex::load, nb::arg("path"),
                  nb::call_guard<nb::gil_scoped_release>(),
                  "Maps and validates an index file. Raises nowrec.Error (Io, InvalidFormat) "
                  "naming the file and field.");

  nb::class_<Ranker> ranker(
      m, "Ranker",
      "Exact top-k by inner product over an ItemIndex (cosine for unit vectors), "
      "ties by the smaller id. Calls release the GIL and may run concurrently.");
  ranker.def(nb::init<const ItemIndex&>(), nb::arg("index"), nb::keep_alive<1, 2>())
      .def(
          "rank",
          [](const Ranker& ranker, ArrayArg<float> queries, std::size_t k,
             std::optional<ArrayArg<std::int64_t>> exclude,
             std::optional<ArrayArg<std::int64_t>> allow,
             std::optional<ArrayArg<std::uint32_t>> categories, double prior_weight,
             std::optional<ArrayArg<float>> negative, double negative_weight, double mmr_lambda,
             int threads) {
            const std::size_t dim = ranker.index().dim();
            const auto q = view_array<float>(queries, "queries", 2, dim);
            const std::size_t slots = result_slots(ranker, q.rows, k);
            const RankOptions options{
                .k = k, .mmr_lambda = to_float32(mmr_lambda, "mmr_lambda"), .threads = threads};
            const SharedFilters filters(exclude, allow, categories, negative);
            std::vector<RankRequest> requests(q.rows);
            for (std::size_t r = 0; r < q.rows; ++r) {
              requests[r].query = q.values.subspan(r * dim, dim);
              filters.apply(requests[r], negative_weight, prior_weight);
            }
            std::vector<ScoredItem> results(slots);
            std::vector<std::size_t> counts(q.rows);
            {
              nb::gil_scoped_release release;
              ranker.rank(requests, options, results, counts);
            }
            return ranked(results, counts, k, q.array.ndim() == 1);
          },
          nb::arg("queries"), nb::arg("k") = 10, nb::kw_only(),
          nb::arg("exclude").none() = nb::none(), nb::arg("allow").none() = nb::none(),
          nb::arg("categories").none() = nb::none(), nb::arg("prior_weight") = 0.0,
          nb::arg("negative").none() = nb::none(), nb::arg("negative_weight") = 0.0,
          nb::arg("mmr_lambda") = 1.0, nb::arg("threads") = 0,
          "The k best items for each query row: (ids int64, scores float32), shape (rows, k), or "
          "(k,) for a 1-d query. Every row shares the filters: exclude and allow (int64 ids), "
          "categories (uint32), a negative vector subtracted at negative_weight, and the items' "
          "priors at prior_weight. Slots a filter leaves empty hold id -1 and score -inf. "
          "threads: 0 for all cores.");
  def_rank_interests(
      ranker, "rank_interests", &rank_interests_binding<false>,
      "One user's several interests (float32 (n, dim), weights (n,)) in one pass over the "
      "catalog: each item scores the max (or weighted sum) of weight * (interest . item). "
      "Returns (ids, scores) of shape (k,).");
  def_rank_interests(
      ranker, "rank_interests_calibrated", &rank_interests_binding<true>,
      "rank_interests with each weight divided by its interest's best match (its largest "
      "inner product with any item the filters leave, when above 0), found in the same "
      "pass over the catalog. Returns (ids, scores, best_matches): best_matches float32 "
      "(n,), 1 where no match is above 0.");
}

}  // namespace nowrec::python

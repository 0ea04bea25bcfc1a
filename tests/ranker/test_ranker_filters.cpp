// Ranker scoring modes and filters against the brute-force reference: interests (max, weighted
// sum), negative feedback, exclude and allow lists, categories, availability, MMR.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "nowrec/ranker.hpp"
#include "ranker/reference.hpp"

using nowrec::test::check_same;
using nowrec::test::brute_force;
using nowrec::test::dot;
using nowrec::test::random_catalog;
using nowrec::test::random_vector;

namespace {

// Catalog rows get categories row % 7 and (row % 5) + 100; every 11th row is unavailable.
struct Fixture {
  std::mt19937 rng{7};
  nowrec::test::Catalog catalog = random_catalog(rng, 5000, 24);
  std::vector<std::vector<std::uint32_t>> categories;
  std::vector<nowrec::ItemAttributes> attributes;
  nowrec::ItemIndex index{24};

  Fixture() {
    for (std::size_t row = 0; row < catalog.ids.size(); ++row) {
      categories.push_back({std::uint32_t(row % 7), std::uint32_t(row % 5 + 100)});
    }
    for (std::size_t row = 0; row < catalog.ids.size(); ++row) {
      attributes.push_back({categories[row], row % 11 != 0});
    }
    index.add(catalog.ids, catalog.vectors, attributes);
  }
  bool available(std::size_t row) const { return row % 11 != 0; }
};

}  // namespace

TEST_CASE("interests: max and weighted sum, with a negative-feedback penalty") {
  Fixture f;
  const nowrec::Ranker ranker(f.index);
  const auto a = random_vector(f.rng, 24), b = random_vector(f.rng, 24),
             c = random_vector(f.rng, 24), negative = random_vector(f.rng, 24);
  const std::vector<nowrec::WeightedInterest> interests = {{a, 1.0f}, {b, 0.5f}, {c, 2.0f}};
  const float penalty = 0.3f;
  for (auto aggregation : {nowrec::Aggregation::Max, nowrec::Aggregation::WeightedSum}) {
    for (bool with_negative : {false, true}) {
      nowrec::RankRequest request{.interests = interests};
      if (with_negative) {
        request.negative = negative;
        request.negative_weight = penalty;
      }
      const auto expected = brute_force(
          f.catalog, 25,
          [&](std::size_t row) {
            const auto item = f.catalog.row(row);
            const double sa = dot(a, item), sb = 0.5 * dot(b, item), sc = 2.0 * dot(c, item);
            double s =
                aggregation == nowrec::Aggregation::Max ? std::max({sa, sb, sc}) : sa + sb + sc;
            if (with_negative) s -= penalty * dot(negative, item);
            return s;
          },
          [&](std::size_t row) { return f.available(row); });
      CAPTURE(with_negative);
      check_same(ranker.rank(request, {.k = 25, .aggregation = aggregation}), expected);
    }
  }
}

TEST_CASE("exclude, allow and category filters") {
  Fixture f;
  const nowrec::Ranker ranker(f.index);
  const auto query = random_vector(f.rng, 24);
  const auto score = [&](std::size_t row) { return dot(query, f.catalog.row(row)); };

  // Exclude the current best 30 (as if already seen) plus ids not in the index.
  const auto top = brute_force(f.catalog, 30, score);
  std::vector<std::int64_t> exclude = {-5, 999999};
  for (const auto& item : top) exclude.push_back(item.id);
  const std::set<std::int64_t> excluded(exclude.begin(), exclude.end());
  check_same(ranker.rank({.query = query, .exclude = exclude}, {.k = 10}),
             brute_force(f.catalog, 10, score, [&](std::size_t row) {
               return f.available(row) && !excluded.contains(f.catalog.ids[row]);
             }));

  // Allow a random tenth of the catalog.
  std::vector<std::int64_t> allow;
  for (std::size_t row = 0; row < f.catalog.ids.size(); row += 10)
    allow.push_back(f.catalog.ids[row]);
  const std::set<std::int64_t> allowed(allow.begin(), allow.end());
  check_same(ranker.rank({.query = query, .allow = allow}, {.k = 10}),
             brute_force(f.catalog, 10, score, [&](std::size_t row) {
               return f.available(row) && allowed.contains(f.catalog.ids[row]);
             }));

  const std::vector<std::uint32_t> wanted = {3, 102};
  check_same(ranker.rank({.query = query, .categories = wanted}, {.k = 10}),
             brute_force(f.catalog, 10, score, [&](std::size_t row) {
               return f.available(row) && (row % 7 == 3 || row % 5 == 2);
             }));

  // All filters at once, on the matmul path too.
  for (std::size_t matmul_from : {16u, 1u}) {
    check_same(
        ranker.rank({.query = query, .exclude = exclude, .allow = allow, .categories = wanted},
                    {.k = 10, .matmul_min_queries = matmul_from}),
        brute_force(f.catalog, 10, score, [&](std::size_t row) {
          const auto id = f.catalog.ids[row];
          return f.available(row) && !excluded.contains(id) && allowed.contains(id) &&
                 (row % 7 == 3 || row % 5 == 2);
        }));
  }
}

TEST_CASE("filters leaving fewer than k items fill fewer slots") {
  Fixture f;
  const auto query = random_vector(f.rng, 24);
  const std::vector<std::int64_t> allow = {f.catalog.ids[1], f.catalog.ids[2], f.catalog.ids[11]};
  const auto got = nowrec::Ranker(f.index).rank({.query = query, .allow = allow}, {.k = 10});
  CHECK(got.size() == 2);  // row 11 is unavailable
}

TEST_CASE("MMR: lambda 1 is plain ranking, lower lambda avoids near-duplicates") {
  nowrec::ItemIndex index(2);
  // Three near-copies of the best direction and one different, slightly worse item.
  const std::vector<std::int64_t> ids = {1, 2, 3, 4};
  const std::vector<float> vectors = {1.0f, 0.0f, 0.99f, 0.01f, 0.98f, 0.02f, 0.6f, 0.6f};
  index.add(ids, vectors);
  const nowrec::Ranker ranker(index);
  const std::vector<float> query = {1.0f, 0.2f};
  const auto plain = ranker.rank({.query = query}, {.k = 2, .mmr_lambda = 1.0f});
  CHECK(plain[0].id == 1);
  CHECK(plain[1].id == 2);
  const auto diverse = ranker.rank({.query = query}, {.k = 2, .mmr_lambda = 0.5f});
  REQUIRE(diverse.size() == 2);
  CHECK(diverse[0].id == 1);
  CHECK(diverse[1].id == 4);
  CHECK(diverse[1].score == doctest::Approx(0.72f));
}

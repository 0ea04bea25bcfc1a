// The CUDA ranker's host logic: selection plans, the bitonic network and merge passes run on the
// host, request checks and answers, all against the CPU Ranker.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/ranker.hpp"
#include "ranker/gpu_requests.hpp"
#include "ranker/gpu_select.hpp"
#include "ranker/reference.hpp"

namespace gpu = nowrec::ranker::gpu;
using nowrec::test::random_catalog;
using nowrec::test::random_vector;

namespace {

// What the device computes for `query`: one score per device row, then the planned selection.
// Both of the device's pass-1 selections: the fused kernel's and the matmul path's.
constexpr gpu::Admission kAdmissions[] = {gpu::Admission::AllRows,
                                          gpu::Admission::FirstChunkThreshold};

std::vector<nowrec::ScoredItem> select_like_device(const nowrec::ItemIndex& index,
                                                   const nowrec::RankRequest& request,
                                                   const nowrec::RankOptions& options,
                                                   gpu::Admission admission) {
  const auto snapshot = index.snapshot();
  const gpu::CatalogLayout layout = gpu::layout_catalog(*snapshot);
  std::vector<nowrec::ScoredItem> results(options.k);
  std::size_t count = 0;
  const gpu::PreparedBatch batch = gpu::prepare_batch(std::span(&request, 1), options, index.dim(),
                                                      snapshot->size, layout.ids, options.k, 1);
  // The CPU's own float scores of the folded query, so that near-ties round the same way and the
  // comparison tests the selection alone.
  const nowrec::Ranker ranker(index);
  std::unordered_map<std::int64_t, float> score_of;
  for (const nowrec::ScoredItem& item : ranker.top_k(batch.queries, snapshot->size)) {
    score_of[item.id] = item.score;
  }
  std::vector<float> scores(layout.ids.size());
  for (std::size_t r = 0; r < layout.ids.size(); ++r) scores[r] = score_of.at(layout.ids[r]);
  const gpu::SelectPlan plan = gpu::plan_selection(layout.ids.size(), 1, batch.keep, 1 << 20);
  const std::vector<gpu::Pick> picks = gpu::select_on_host(scores, plan, admission);
  REQUIRE(picks.size() == batch.keep);
  count = gpu::finish_request(picks, layout.ids, batch.excluded[0], results);
  results.resize(count);
  return results;
}

void check_same_ids(const std::vector<nowrec::ScoredItem>& got,
                    const std::vector<nowrec::ScoredItem>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].id == expected[i].id);
    CHECK(got[i].score == doctest::Approx(expected[i].score).epsilon(1e-4));
  }
}

void check_code(nowrec::ErrorCode code, const std::function<void()>& call) {
  try {
    call();
    FAIL("no error thrown");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == code);
    CHECK(std::string(error.what()).find("CudaRanker") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("selection plans cover every row and shrink to one block") {
  const gpu::SelectPlan one = gpu::plan_selection(1'000'000, 1, 10, std::size_t(1) << 25);
  CHECK(one.chunks == 245);
  REQUIRE(one.merge_inputs.size() == 1);
  CHECK(one.merge_inputs[0] == 2450);
  CHECK(one.tile_rows == 245 * gpu::kChunk);

  const gpu::SelectPlan wide = gpu::plan_selection(1'000'000, 64, 1024, std::size_t(1) << 25);
  CHECK(wide.tile_rows % gpu::kChunk == 0);
  CHECK(wide.tile_rows * 64 <= (std::size_t(1) << 25));
  std::size_t blocks = wide.chunks;
  for (const std::size_t entries : wide.merge_inputs) {
    CHECK(entries == blocks * 1024);
    blocks = gpu::blocks_for(entries);
  }
  CHECK(blocks == 1);

  const gpu::SelectPlan small = gpu::plan_selection(7, 3, 7, 16);
  CHECK(small.chunks == 1);
  CHECK(small.merge_inputs.empty());
  CHECK(small.tile_rows == gpu::kChunk);  // never below one chunk

  CHECK_THROWS_AS(gpu::plan_selection(10, 1, 0, 100), nowrec::Error);
  CHECK_THROWS_AS(gpu::plan_selection(10'000, 1, gpu::kMaxKeep + 1, 100), nowrec::Error);
  CHECK_THROWS_AS(gpu::plan_selection(0, 1, 1, 100), nowrec::Error);
}

TEST_CASE("large batches run in groups whose picks fit the bound") {
  const std::size_t bound = std::size_t(256) << 20;
  const std::size_t group = gpu::queries_per_pass(1'000'000, 100, bound);
  CHECK(group * 245 * 100 * sizeof(gpu::Pick) <= bound);
  CHECK((group + 1) * 245 * 100 * sizeof(gpu::Pick) > bound);
  CHECK(gpu::queries_per_pass(1'000'000'000, 1024, bound) == 1);  // never 0
  CHECK(gpu::queries_per_pass(10, 1, bound) == gpu::kMaxQueriesPerPass);
}

TEST_CASE("the bitonic network sorts best first, ties by row") {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> coarse(0, 20);  // few distinct scores: many ties
  std::vector<gpu::Pick> picks(gpu::kChunk);
  for (std::uint32_t i = 0; i < gpu::kChunk; ++i) {
    picks[i] = {float(coarse(rng)), static_cast<std::uint32_t>(rng() % 100000)};
  }
  picks[5] = gpu::padding_pick();
  std::vector<gpu::Pick> expected = picks;
  std::sort(expected.begin(), expected.end(), gpu::pick_before);
  gpu::bitonic_sort_on_host(picks.data(), gpu::kChunk);
  for (std::size_t i = 0; i < picks.size(); ++i) {
    CAPTURE(i);
    REQUIRE(picks[i].score == expected[i].score);
    REQUIRE(picks[i].row == expected[i].row);
  }
}

TEST_CASE("the top-k network keeps the best run_length(keep) entries, best first") {
  CHECK(gpu::run_length(1) == 1);
  CHECK(gpu::run_length(10) == 16);
  CHECK(gpu::run_length(16) == 16);
  CHECK(gpu::run_length(100) == 128);
  CHECK(gpu::run_length(gpu::kMaxKeep) == gpu::kMaxKeep);
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> coarse(-10, 10);  // many ties, broken by row
  std::normal_distribution<float> fine(0.0f, 1.0f);
  for (const std::size_t keep : {1u, 2u, 3u, 10u, 16u, 17u, 100u, 1000u, 1024u}) {
    for (int trial = 0; trial < 6; ++trial) {
      CAPTURE(keep);
      CAPTURE(trial);
      // Rows are distinct (a permutation), as within a chunk; some entries are padding.
      std::vector<std::uint32_t> rows(gpu::kChunk);
      for (std::uint32_t i = 0; i < gpu::kChunk; ++i) rows[i] = i * 7 + 3;
      std::shuffle(rows.begin(), rows.end(), rng);
      std::vector<gpu::Pick> picks(gpu::kChunk);
      for (std::uint32_t i = 0; i < gpu::kChunk; ++i) {
        float score = trial % 2 == 0 ? float(coarse(rng)) : fine(rng);
        if (score == 0.0f && rng() % 2 == 0) score = -0.0f;  // equal to +0: a tie
        picks[i] = {score, rows[i]};
      }
      if (trial >= 2) {
        for (std::uint32_t i = 0; i < gpu::kChunk; i += trial) picks[i] = gpu::padding_pick();
      }
      if (trial == 5) {  // mostly padding: fewer real entries than keep
        for (std::uint32_t i = 0; i < gpu::kChunk; ++i) {
          if (i % 512 != 1) picks[i] = gpu::padding_pick();
        }
      }
      std::vector<gpu::Pick> expected = picks;
      std::sort(expected.begin(), expected.end(), gpu::pick_before);
      const std::uint32_t run = gpu::run_length(keep);
      gpu::select_best_on_host(picks.data(), gpu::kChunk, run);
      for (std::size_t i = 0; i < run; ++i) {
        CAPTURE(i);
        REQUIRE(picks[i].score == expected[i].score);
        REQUIRE(picks[i].row == expected[i].row);
      }
    }
  }
}

// The reference answer: every non-NaN score, sorted best first (ties by row), the best `keep`,
// padded when fewer.
std::vector<gpu::Pick> sorted_best(const std::vector<float>& scores, std::size_t keep) {
  std::vector<gpu::Pick> all;
  for (std::size_t r = 0; r < scores.size(); ++r) {
    if (!std::isnan(scores[r])) all.push_back({scores[r], static_cast<std::uint32_t>(r)});
  }
  std::sort(all.begin(), all.end(), gpu::pick_before);
  all.resize(keep, gpu::padding_pick());
  return all;
}

TEST_CASE("admission by the first chunk's threshold keeps the answer, entry for entry") {
  std::mt19937 rng(12);
  std::normal_distribution<float> fine(0.0f, 1.0f);
  std::uniform_int_distribution<int> coarse(-3, 3);  // ties at the threshold, past kMaxAdmitted
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* name;
    std::function<float(std::size_t)> score;
  };
  const std::vector<Case> cases{
      {"gaussian", [&](std::size_t) { return fine(rng); }},
      {"few distinct scores", [&](std::size_t) { return float(coarse(rng)); }},
      {"one score everywhere", [&](std::size_t) { return 0.25f; }},
      // The best rows all in the last chunk, so the first chunk's threshold is low.
      {"rising", [&](std::size_t r) { return float(r) * 1e-3f + 0.1f * fine(rng); }},
      // The first chunk holds the best: later chunks admit almost nothing.
      {"falling", [&](std::size_t r) { return -float(r) * 1e-3f; }},
      {"infinities and NaN",
       [&](std::size_t r) {
         if (r % 97 == 5) return std::numeric_limits<float>::quiet_NaN();
         if (r % 89 == 3) return -inf;
         if (r % 211 == 7) return inf;
         return fine(rng);
       }},
      {"all -inf but a few", [&](std::size_t r) { return r % 5000 == 17 ? fine(rng) : -inf; }},
  };
  for (const Case& c : cases) {
    for (const std::size_t rows : {3u, 4096u, 4097u, 30000u}) {
      for (const std::size_t keep : {1u, 10u, 100u, 1000u}) {
        CAPTURE(c.name);
        CAPTURE(rows);
        CAPTURE(keep);
        std::vector<float> scores(rows);
        for (std::size_t r = 0; r < rows; ++r) scores[r] = c.score(r);
        const gpu::SelectPlan plan = gpu::plan_selection(rows, 1, keep, std::size_t(1) << 20);
        const auto filtered =
            gpu::select_on_host(scores, plan, gpu::Admission::FirstChunkThreshold);
        const auto all_rows = gpu::select_on_host(scores, plan, gpu::Admission::AllRows);
        const auto expected = sorted_best(scores, keep);
        REQUIRE(filtered.size() == keep);
        REQUIRE(all_rows.size() == keep);
        for (std::size_t i = 0; i < keep; ++i) {
          CAPTURE(i);
          REQUIRE(filtered[i].row == expected[i].row);
          REQUIRE(all_rows[i].row == expected[i].row);
          if (expected[i].row != gpu::kNoRow) {
            REQUIRE(filtered[i].score == expected[i].score);
            REQUIRE(all_rows[i].score == expected[i].score);
          }
        }
      }
    }
  }
}

TEST_CASE("the admitted entries' block: a power of two, at least one run") {
  CHECK(gpu::admitted_entries(0, 16) == 16);
  CHECK(gpu::admitted_entries(16, 16) == 16);
  CHECK(gpu::admitted_entries(17, 16) == 32);
  CHECK(gpu::admitted_entries(gpu::kMaxAdmitted, 1) == gpu::kMaxAdmitted);
  CHECK(gpu::admitted_entries(3, 1024) == 1024);
  CHECK(gpu::admitted(1.0f, 1.0f));
  CHECK_FALSE(gpu::admitted(0.5f, 1.0f));
  CHECK_FALSE(gpu::admitted(std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::infinity()));
  CHECK(gpu::scored_pick(std::numeric_limits<float>::quiet_NaN(), 3).row == gpu::kNoRow);
}

TEST_CASE("device rows are the available items in id order") {
  std::mt19937 rng(4);
  const auto catalog = random_catalog(rng, 9000, 8);
  std::vector<nowrec::ItemAttributes> attributes(catalog.ids.size());
  for (std::size_t i = 0; i < attributes.size(); i += 7) attributes[i].available = false;
  nowrec::ItemIndex index(8);
  index.add(catalog.ids, catalog.vectors, attributes);
  index.remove(std::vector<std::int64_t>{catalog.ids[1], catalog.ids[2]});
  const gpu::CatalogLayout layout = gpu::layout_catalog(*index.snapshot());
  CHECK(std::is_sorted(layout.ids.begin(), layout.ids.end()));
  std::vector<std::int64_t> expected;
  for (std::size_t i = 0; i < catalog.ids.size(); ++i) {
    if (i % 7 != 0 && i != 1 && i != 2) expected.push_back(catalog.ids[i]);
  }
  std::sort(expected.begin(), expected.end());
  CHECK(layout.ids == expected);
}

TEST_CASE("the device's selection, run on the host, equals the Ranker") {
  std::mt19937 rng(5);
  for (const std::size_t rows : {100u, 4096u, 20000u}) {
    const auto catalog = random_catalog(rng, rows, 16);
    nowrec::ItemIndex index(16);
    index.add(catalog.ids, catalog.vectors);
    const nowrec::Ranker ranker(index);
    for (const std::size_t k : {1u, 10u, 100u, 1000u}) {
      if (k > rows) continue;
      CAPTURE(rows);
      CAPTURE(k);
      const auto query = random_vector(rng, 16);
      nowrec::RankRequest request;
      request.query = query;
      for (const auto admission : kAdmissions) {
        CAPTURE(static_cast<int>(admission));
        check_same_ids(select_like_device(index, request, {.k = k}, admission),
                       ranker.top_k(query, k));
      }
    }
  }
}

TEST_CASE("ties break by the smaller id across chunks and merge passes") {
  std::mt19937 rng(6);
  // 12,000 items sharing 3 vectors: every score is tied thousands of times.
  auto catalog = random_catalog(rng, 12000, 8);
  const auto shapes = random_catalog(rng, 3, 8);
  for (std::size_t i = 0; i < catalog.ids.size(); ++i) {
    std::copy_n(shapes.vectors.begin() + (i % 3) * 8, 8, catalog.vectors.begin() + i * 8);
  }
  nowrec::ItemIndex index(8);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker ranker(index);
  const auto query = random_vector(rng, 8);
  nowrec::RankRequest request;
  request.query = query;
  for (const std::size_t k : {10u, 1000u}) {
    for (const auto admission : kAdmissions) {
      CAPTURE(k);
      CAPTURE(static_cast<int>(admission));
      check_same_ids(select_like_device(index, request, {.k = k}, admission),
                     ranker.top_k(query, k));
    }
  }
}

TEST_CASE("excludes, weighted interests and the negative penalty match the Ranker") {
  std::mt19937 rng(7);
  const auto catalog = random_catalog(rng, 10000, 12);
  nowrec::ItemIndex index(12);
  index.add(catalog.ids, catalog.vectors);
  const nowrec::Ranker ranker(index);
  const auto a = random_vector(rng, 12), b = random_vector(rng, 12),
             negative = random_vector(rng, 12);
  const std::vector<nowrec::WeightedInterest> interests{{a, 0.7f}, {b, 0.3f}};
  const nowrec::RankOptions options{.k = 20, .aggregation = nowrec::Aggregation::WeightedSum};
  nowrec::RankRequest request;
  request.interests = interests;
  request.negative = negative;
  request.negative_weight = 0.5f;
  // The best 15 of the unfiltered answer, an id twice and ids that are not in the index.
  const auto unfiltered = ranker.rank(request, options);
  std::vector<std::int64_t> exclude;
  for (std::size_t i = 0; i < 15; ++i) exclude.push_back(unfiltered[i].id);
  exclude.push_back(unfiltered[0].id);
  exclude.push_back(-5);
  exclude.push_back(99'999'999);
  request.exclude = exclude;
  for (const auto admission : kAdmissions) {
    check_same_ids(select_like_device(index, request, options, admission),
                   ranker.rank(request, options));
  }

  const gpu::CatalogLayout layout = gpu::layout_catalog(*index.snapshot());
  const auto batch =
      gpu::prepare_batch(std::span(&request, 1), options, 12, index.size(), layout.ids, 20, 1);
  CHECK(batch.excluded[0].size() == 15);
  CHECK(batch.keep == 35);
}

TEST_CASE("bad requests are refused on the host as the Ranker refuses them") {
  std::mt19937 rng(8);
  const auto catalog = random_catalog(rng, 50, 4);
  nowrec::ItemIndex index(4);
  index.add(catalog.ids, catalog.vectors);
  const gpu::CatalogLayout layout = gpu::layout_catalog(*index.snapshot());
  std::vector<float> query = random_vector(rng, 4);
  const auto prepare = [&](const nowrec::RankRequest& request, const nowrec::RankOptions& options,
                           std::size_t slots) {
    return [&, request, options, slots] {
      gpu::prepare_batch(std::span(&request, 1), options, 4, 50, layout.ids, slots, 1);
    };
  };
  nowrec::RankRequest good;
  good.query = query;
  using nowrec::ErrorCode;
  check_code(ErrorCode::InvalidArgument, prepare(good, {.k = 0}, 0));
  check_code(ErrorCode::InvalidArgument, prepare(good, {.k = 51}, 51));
  check_code(ErrorCode::InvalidArgument, prepare(good, {.k = 5}, 4));  // result slots
  // Result slots that wrap around (4 requests of k = 2^62 make 0 in 64 bits) are refused, not
  // taken for the 0 slots given.
  const std::vector<nowrec::RankRequest> four(4, good);
  CHECK_THROWS_WITH_AS(
      gpu::prepare_batch(four, {.k = std::size_t{1} << 62}, 4,
                         std::numeric_limits<std::size_t>::max(), layout.ids, 0, 4),
      doctest::Contains("more result slots than a size_t holds"), nowrec::Error);
  std::vector<float> short_query(3, 1.0f);
  nowrec::RankRequest wrong_dim;
  wrong_dim.query = short_query;
  check_code(ErrorCode::InvalidArgument, prepare(wrong_dim, {.k = 5}, 5));
  std::vector<float> nan_query = query;
  nan_query[2] = std::numeric_limits<float>::quiet_NaN();
  nowrec::RankRequest nan;
  nan.query = nan_query;
  check_code(ErrorCode::InvalidArgument, prepare(nan, {.k = 5}, 5));
  // The same checks as the Ranker's, with the same words after the caller's name.
  const nowrec::Ranker ranker(index);
  for (const nowrec::RankRequest& bad : {nan, wrong_dim, nowrec::RankRequest{}}) {
    std::string cpu_message, gpu_message;
    try {
      (void)ranker.rank(bad, {.k = 5});
    } catch (const nowrec::Error& e) {
      cpu_message = e.what();
    }
    try {
      prepare(bad, {.k = 5}, 5)();
    } catch (const nowrec::Error& e) {
      gpu_message = e.what();
    }
    REQUIRE(cpu_message.rfind("Ranker: request 0", 0) == 0);
    CHECK("Cuda" + cpu_message == gpu_message);
  }
  nowrec::RankRequest calibrated_query = good;
  calibrated_query.calibrate = true;
  check_code(ErrorCode::InvalidArgument, prepare(calibrated_query, {.k = 5}, 5));
  check_code(ErrorCode::InvalidArgument, prepare(nowrec::RankRequest{}, {.k = 5}, 5));
  check_code(ErrorCode::InvalidArgument, prepare(good, {.k = 5, .mmr_lambda = 2.0f}, 5));

  check_code(ErrorCode::Unsupported, prepare(good, {.k = 5, .mmr_lambda = 0.5f}, 5));
  const std::vector<std::int64_t> allow{catalog.ids[0]};
  nowrec::RankRequest allowed = good;
  allowed.allow = allow;
  check_code(ErrorCode::Unsupported, prepare(allowed, {.k = 5}, 5));
  const std::vector<std::uint32_t> categories{1};
  nowrec::RankRequest categorised = good;
  categorised.categories = categories;
  check_code(ErrorCode::Unsupported, prepare(categorised, {.k = 5}, 5));
  nowrec::RankRequest with_priors = good;
  with_priors.prior_weight = 0.5f;
  CHECK_NOTHROW(prepare(with_priors, {.k = 5}, 5)());
  with_priors.prior_weight = std::numeric_limits<float>::infinity();
  check_code(ErrorCode::InvalidArgument, prepare(with_priors, {.k = 5}, 5));
  const std::vector<nowrec::WeightedInterest> two{{query, 1.0f}, {query, 2.0f}};
  nowrec::RankRequest interests;
  interests.interests = two;
  check_code(ErrorCode::Unsupported, prepare(interests, {.k = 5}, 5));
  CHECK_NOTHROW(prepare(interests, {.k = 5, .aggregation = nowrec::Aggregation::WeightedSum}, 5)());
}

TEST_CASE("answers skip padding and excluded ids and stop at k") {
  const std::vector<std::int64_t> ids{10, 20, 30, 40};
  const std::vector<gpu::Pick> picks{{0.9f, 2}, {0.8f, 0}, {0.7f, 3}, gpu::padding_pick()};
  const std::vector<std::int64_t> excluded{10};
  std::vector<nowrec::ScoredItem> out(3);
  CHECK(gpu::finish_request(picks, ids, excluded, out) == 2);
  CHECK(out[0] == nowrec::ScoredItem{30, 0.9f});
  CHECK(out[1] == nowrec::ScoredItem{40, 0.7f});
  std::vector<nowrec::ScoredItem> one(1);
  CHECK(gpu::finish_request(picks, ids, {}, one) == 1);
  CHECK(one[0].id == 30);
}

// Ranker: checks requests once, turns them into query vectors and filters, then one scan.
#include "nowrec/ranker.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "cpu/dispatch.hpp"
#include "encoder/thread_count.hpp"
#include "nowrec/error.hpp"
#include "ranker/ranked_rows.hpp"
#include "ranker/request_checks.hpp"
#include "ranker/scan.hpp"
#include "ranker/workspace.hpp"

namespace nowrec {
namespace {

// A thread's workspace is freed after a call that leaves it holding more than this (thousands of
// queries in one batch, say), so one large call does not pin its buffers on that thread for good.
// One request with a few interests, or a batch of 64 queries at k = 100, holds far less.
constexpr std::size_t kKeptWorkspaceBytes = std::size_t(64) << 20;

// The calling thread's workspace. rank() never calls itself, so one per thread is enough.
ranker::Workspace& thread_workspace() {
  thread_local ranker::Workspace workspace;
  return workspace;
}

// Empties the workspace for `requests`, keeping its capacity, and reserves the id, boost and
// category storage for all of them: ScanUser spans point into it, so it must not move while the
// users are added.
void prepare(std::span<const RankRequest> requests, ranker::Workspace& workspace) {
  workspace.plan.vectors.clear();
  workspace.plan.users.clear();
  workspace.filter_ids.clear();
  workspace.boosts.clear();
  workspace.categories.clear();
  workspace.interest_weights.clear();
  std::size_t ids = 0, boosts = 0, categories = 0, weights = 0;
  for (const RankRequest& request : requests) {
    ids += request.exclude.size() + request.allow.size();
    boosts += request.boosts.size();
    categories += request.categories.size();
    if (request.calibrate) weights += request.interests.size();
  }
  workspace.plan.users.reserve(requests.size());
  workspace.filter_ids.reserve(ids);
  workspace.boosts.reserve(boosts);
  workspace.categories.reserve(categories);
  workspace.interest_weights.reserve(weights);
}

// Appends `ids` to `storage` (reserved by prepare()), sorted and without repeats; returns them.
std::span<const std::int64_t> append_id_set(std::span<const std::int64_t> ids,
                                            std::vector<std::int64_t>& storage) {
  const std::size_t first = storage.size();
  storage.insert(storage.end(), ids.begin(), ids.end());
  std::sort(storage.begin() + std::ptrdiff_t(first), storage.end());
  storage.erase(std::unique(storage.begin() + std::ptrdiff_t(first), storage.end()), storage.end());
  return {storage.data() + first, storage.size() - first};
}

// Appends one entry per id that `boosts` names to workspace.boosts (reserved by prepare()), sorted
// by id, holding the sum of that id's boosts added in the order the request gives them, from 0;
// raises max_boost to the largest sum. Returns the entries.
std::span<const ItemBoost> append_boost_table(std::span<const ItemBoost> boosts,
                                              ranker::Workspace& workspace, float& max_boost) {
  std::vector<ranker::BoostPosition>& order = workspace.boost_order;
  order.clear();
  for (std::size_t b = 0; b < boosts.size(); ++b) order.push_back({boosts[b].id, b});
  std::sort(order.begin(), order.end(),
            [](const ranker::BoostPosition& a, const ranker::BoostPosition& b) {
              return a.id != b.id ? a.id < b.id : a.position < b.position;
            });
  std::vector<ItemBoost>& table = workspace.boosts;
  const std::size_t first = table.size();
  for (std::size_t i = 0; i < order.size();) {
    const std::int64_t id = order[i].id;
    float sum = 0.0f;
    for (; i < order.size() && order[i].id == id; ++i) sum += boosts[order[i].position].score;
    table.push_back({id, sum});
    max_boost = std::max(max_boost, sum);
  }
  return {table.data() + first, table.size() - first};
}

void add_user(const RankRequest& request, std::size_t index, std::size_t dim,
              Aggregation aggregation, ranker::Workspace& workspace) {
  ranker::check_request(request, index, dim, "Ranker");
  const bool has_negative = !request.negative.empty() && request.negative_weight != 0.0f;

  ranker::ScanPlan& plan = workspace.plan;
  ranker::ScanUser user;
  user.first_vector = plan.vectors.size() / dim;
  const std::size_t start = plan.vectors.size();
  if (!request.query.empty()) {
    plan.vectors.insert(plan.vectors.end(), request.query.begin(), request.query.end());
  } else if (request.calibrate) {
    // Unweighted and one vector per interest: the weights apply once the best matches are known.
    user.calibrate = true;
    user.sum_interests = aggregation == Aggregation::WeightedSum;
    user.interest_count = request.interests.size();
    user.best_matches = request.best_matches;
    const std::size_t first_weight = workspace.interest_weights.size();
    for (const WeightedInterest& interest : request.interests) {
      plan.vectors.insert(plan.vectors.end(), interest.vector.begin(), interest.vector.end());
      workspace.interest_weights.push_back(interest.weight);
    }
    user.weights = {workspace.interest_weights.data() + first_weight, request.interests.size()};
  } else if (aggregation == Aggregation::WeightedSum || request.interests.size() == 1) {
    // A weighted sum of inner products is the inner product with the weighted sum.
    plan.vectors.resize(start + dim, 0.0f);
    for (const WeightedInterest& interest : request.interests) {
      for (std::size_t j = 0; j < dim; ++j) {
        plan.vectors[start + j] += interest.weight * interest.vector[j];
      }
    }
  } else {
    user.interest_count = request.interests.size();
    for (const WeightedInterest& interest : request.interests) {
      for (float x : interest.vector) plan.vectors.push_back(interest.weight * x);
    }
  }
  if (has_negative) {
    if (user.interest_count == 1 && !user.calibrate) {
      for (std::size_t j = 0; j < dim; ++j) {
        plan.vectors[start + j] -= request.negative_weight * request.negative[j];
      }
    } else {
      user.has_negative = true;
      for (float x : request.negative) plan.vectors.push_back(-request.negative_weight * x);
    }
  }
  if (!request.exclude.empty()) user.exclude = append_id_set(request.exclude, workspace.filter_ids);
  if (!request.allow.empty()) user.allow = append_id_set(request.allow, workspace.filter_ids);
  user.prior_weight = request.prior_weight;
  if (!request.boosts.empty()) {
    user.boosts = append_boost_table(request.boosts, workspace, user.max_boost);
  }
  if (!request.categories.empty()) {
    std::vector<std::uint32_t>& categories = workspace.categories;
    const std::size_t first = categories.size();
    categories.insert(categories.end(), request.categories.begin(), request.categories.end());
    std::sort(categories.begin() + std::ptrdiff_t(first), categories.end());
    user.categories = {categories.data() + first, categories.size() - first};
  }
  plan.users.push_back(user);
}

}  // namespace

std::size_t checked_result_slots(std::size_t k, std::size_t index_size, std::size_t requests,
                                 std::string_view caller) {
  if (k == 0 || k > index_size) {
    throw Error(ErrorCode::InvalidArgument, std::string(caller) + ": k = " + std::to_string(k) +
                                                " must be in [1, " + std::to_string(index_size) +
                                                "] (index size)");
  }
  std::size_t slots = 0;
  if (__builtin_mul_overflow(requests, k, &slots)) {
    throw Error(ErrorCode::InvalidArgument, std::string(caller) + ": " + std::to_string(requests) +
                                                " requests of k = " + std::to_string(k) +
                                                " need more result slots than a size_t holds");
  }
  return slots;
}

std::size_t RankOptions::default_matmul_min_queries(StorageType storage) {
  // By the kernel table the scan runs (NOWREC_CPU_ISA may pick a lesser one than the CPU has):
  // the crossovers differ with the bf16 and int8 scans' instructions.
  const cpu::KernelTable& kernels = cpu::kernels();
  const bool avx512 = kernels.isa == CpuIsa::Avx512;
  const bool bf16_products = kernels.score_rows_bf16_dp != nullptr;  // avx512_bf16_vnni
  switch (storage) {
    case StorageType::F32:
      return avx512 ? 6 : 16;
    case StorageType::BF16:
      return bf16_products ? 4 : avx512 ? 12 : 16;
    case StorageType::Int8:
      return bf16_products ? 32 : avx512 ? 28 : 48;
  }
  return 16;
}

namespace ranker {

void rank_snapshot(const Snapshot& snapshot, std::span<const RankRequest> requests,
                   const RankOptions& options, std::span<ScoredItem> results,
                   std::span<std::size_t> counts, std::span<RowPlace> places) {
  const std::size_t k = options.k;
  const std::size_t slots = checked_result_slots(k, snapshot.size, requests.size());
  if (results.size() != slots || counts.size() != requests.size() ||
      (!places.empty() && places.size() != slots)) {
    throw Error(ErrorCode::InvalidArgument,
                "Ranker::rank: " + std::to_string(requests.size()) + " requests need " +
                    std::to_string(slots) + " result slots and " + std::to_string(requests.size()) +
                    " counts, got " + std::to_string(results.size()) + " and " +
                    std::to_string(counts.size()) +
                    (places.empty() ? "" : " (and " + std::to_string(places.size()) + " places)"));
  }
  check_mmr_lambda(options.mmr_lambda, "Ranker");
  encoder::check_thread_count(options.threads, "Ranker: threads");
  if (requests.empty()) return;
  const bool mmr = options.mmr_lambda < 1.0f;

  // Everything below works in the thread's workspace: cleared, not freed, so a call shaped like
  // an earlier one on this thread allocates nothing.
  ranker::Workspace& workspace = thread_workspace();
  prepare(requests, workspace);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    add_user(requests[i], i, snapshot.dim, options.aggregation, workspace);
  }
  ranker::ScanPlan& plan = workspace.plan;
  plan.keep = k;
  if (mmr) {
    const std::size_t pool = options.mmr_candidates != 0 ? options.mmr_candidates : 4 * k;
    plan.keep = std::min(snapshot.size, std::max(k, pool));
  }
  plan.threads = encoder::resolve_thread_count(options.threads);
  plan.matmul_min_queries = options.matmul_min_queries_for(snapshot.storage);

  {
    // oneDNN's sgemm reads this thread count when the scan's own team is a single thread.
    const encoder::OmpThreadsGuard threads(plan.threads);
    scan(snapshot, plan, workspace.scan);
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    // Infinities of opposite signs added (two terms of one inner product, or a score and its
    // prior, penalty or boost) make a NaN, which no order can place: refused as infinite scores
    // are, not left out of the ranking.
    if (const ranker::NanScore& nan = workspace.scan.nan[i]; nan.found) {
      throw Error(ErrorCode::InvalidArgument,
                  "Ranker: request " + std::to_string(i) + " scores item " +
                      std::to_string(nan.id) +
                      " as NaN (infinities of opposite signs, or a product past float's range): "
                      "scale its vectors, weights or boosts down");
    }
    std::span<const ranker::Candidate> chosen = workspace.scan.best[i];
    if (mmr) chosen = select_mmr(snapshot, chosen, k, options.mmr_lambda, workspace.mmr);
    const std::size_t n = std::min(k, chosen.size());
    for (std::size_t j = 0; j < n; ++j) {
      // Finite vectors, weights and priors can still multiply past float's range; infinite
      // scores would tie and be ordered by id instead of by score.
      if (!std::isfinite(chosen[j].score)) {
        throw Error(ErrorCode::InvalidArgument,
                    "Ranker: request " + std::to_string(i) + " scores item " +
                        std::to_string(chosen[j].id) +
                        " beyond float's range: scale its vectors, weights or boosts down");
      }
      results[i * k + j] = {chosen[j].id, chosen[j].score};
      if (!places.empty()) places[i * k + j] = {chosen[j].segment, chosen[j].row};
    }
    counts[i] = n;
  }
  if (workspace.capacity_bytes() > kKeptWorkspaceBytes) workspace.release();
}

}  // namespace ranker

Ranker::Ranker(const ItemIndex& index) : index_(&index) {}

void Ranker::rank(std::span<const RankRequest> requests, const RankOptions& options,
                  std::span<ScoredItem> results, std::span<std::size_t> counts) const {
  ranker::rank_snapshot(*index_->snapshot(), requests, options, results, counts, {});
}

std::vector<ScoredItem> Ranker::rank(const RankRequest& request, const RankOptions& options) const {
  // Checked before the results are sized by k; the call below checks k again against the
  // snapshot it ranks, which writers may have shrunk since.
  std::vector<ScoredItem> results(checked_result_slots(options.k, index_->size(), 1));
  std::size_t count = 0;
  rank(std::span(&request, 1), options, results, std::span(&count, 1));
  results.resize(count);
  return results;
}

std::vector<ScoredItem> Ranker::top_k(std::span<const float> query, std::size_t k) const {
  RankRequest request;
  request.query = query;
  return rank(request, {.k = k});
}

}  // namespace nowrec

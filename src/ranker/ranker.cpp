// Ranker: checks requests once, turns them into query vectors and filters, then one scan.
#include "nowrec/ranker.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "encoder/thread_count.hpp"
#include "nowrec/error.hpp"
#include "ranker/scan.hpp"

namespace nowrec {
namespace {

void check_vector(std::span<const float> values, std::size_t dim, const std::string& what) {
  if (values.size() != dim) {
    throw Error(ErrorCode::InvalidArgument, "Ranker: " + what + " has " +
                                                std::to_string(values.size()) +
                                                " values, expected dim " + std::to_string(dim));
  }
  for (std::size_t j = 0; j < dim; ++j) {
    if (!std::isfinite(values[j])) {
      throw Error(ErrorCode::InvalidArgument,
                  "Ranker: " + what + " has a non-finite value at position " + std::to_string(j));
    }
  }
}

void check_weight(float weight, const std::string& what) {
  if (!std::isfinite(weight)) {
    throw Error(ErrorCode::InvalidArgument, "Ranker: " + what + " is not finite");
  }
}

// Owns the id sets and boost tables the scan's ScanUser entries point to.
struct RequestFilters {
  std::vector<std::unordered_set<std::int64_t>> sets;
  std::vector<std::unordered_map<std::int64_t, float>> boosts;
};

void add_user(const RankRequest& request, std::size_t index, std::size_t dim,
              Aggregation aggregation, ranker::ScanPlan& plan, RequestFilters& filters) {
  const std::string name = "request " + std::to_string(index);
  if (request.query.empty() == request.interests.empty()) {
    throw Error(ErrorCode::InvalidArgument,
                "Ranker: " + name + " must give exactly one of query and interests");
  }
  if (request.query.empty() == false) check_vector(request.query, dim, name + " query");
  for (std::size_t i = 0; i < request.interests.size(); ++i) {
    const std::string interest = name + " interest " + std::to_string(i);
    check_vector(request.interests[i].vector, dim, interest);
    check_weight(request.interests[i].weight, interest + " weight");
  }
  const bool has_negative = !request.negative.empty() && request.negative_weight != 0.0f;
  if (!request.negative.empty()) check_vector(request.negative, dim, name + " negative");
  check_weight(request.negative_weight, name + " negative_weight");
  check_weight(request.prior_weight, name + " prior_weight");

  ranker::ScanUser user;
  user.first_vector = plan.vectors.size() / dim;
  const std::size_t start = plan.vectors.size();
  if (!request.query.empty()) {
    plan.vectors.insert(plan.vectors.end(), request.query.begin(), request.query.end());
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
    if (user.interest_count == 1) {
      for (std::size_t j = 0; j < dim; ++j) {
        plan.vectors[start + j] -= request.negative_weight * request.negative[j];
      }
    } else {
      user.has_negative = true;
      for (float x : request.negative) plan.vectors.push_back(-request.negative_weight * x);
    }
  }
  if (!request.exclude.empty()) {
    user.exclude = &filters.sets.emplace_back(request.exclude.begin(), request.exclude.end());
  }
  if (!request.allow.empty()) {
    user.allow = &filters.sets.emplace_back(request.allow.begin(), request.allow.end());
  }
  user.prior_weight = request.prior_weight;
  if (!request.boosts.empty()) {
    auto& table = filters.boosts.emplace_back();
    table.reserve(request.boosts.size());
    for (std::size_t b = 0; b < request.boosts.size(); ++b) {
      const ItemBoost& boost = request.boosts[b];
      check_weight(boost.score, name + " boost " + std::to_string(b) + " (item " +
                                    std::to_string(boost.id) + ")");
      table[boost.id] += boost.score;
    }
    for (const auto& [id, score] : table) user.max_boost = std::max(user.max_boost, score);
    user.boosts = &table;
  }
  user.categories.assign(request.categories.begin(), request.categories.end());
  std::sort(user.categories.begin(), user.categories.end());
  plan.users.push_back(std::move(user));
}

}  // namespace

Ranker::Ranker(const ItemIndex& index) : index_(&index) {}

void Ranker::rank(std::span<const RankRequest> requests, const RankOptions& options,
                  std::span<ScoredItem> results, std::span<std::size_t> counts) const {
  const auto snapshot = index_->snapshot();
  const std::size_t k = options.k;
  if (k == 0 || k > snapshot->size) {
    throw Error(ErrorCode::InvalidArgument, "Ranker: k = " + std::to_string(k) +
                                                " must be in [1, " +
                                                std::to_string(snapshot->size) + "] (index size)");
  }
  if (results.size() != requests.size() * k || counts.size() != requests.size()) {
    throw Error(ErrorCode::InvalidArgument,
                "Ranker::rank: " + std::to_string(requests.size()) + " requests need " +
                    std::to_string(requests.size() * k) + " result slots and " +
                    std::to_string(requests.size()) + " counts, got " +
                    std::to_string(results.size()) + " and " + std::to_string(counts.size()));
  }
  if (!(options.mmr_lambda >= 0.0f && options.mmr_lambda <= 1.0f)) {
    throw Error(ErrorCode::InvalidArgument, "Ranker: mmr_lambda must be in [0, 1]");
  }
  if (requests.empty()) return;
  const bool mmr = options.mmr_lambda < 1.0f;

  ranker::ScanPlan plan;
  RequestFilters filters;
  // Reserved so the pointers ScanUser keeps into it stay valid.
  filters.sets.reserve(2 * requests.size());
  filters.boosts.reserve(requests.size());
  plan.users.reserve(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    add_user(requests[i], i, snapshot->dim, options.aggregation, plan, filters);
  }
  plan.keep = k;
  if (mmr) {
    const std::size_t pool = options.mmr_candidates != 0 ? options.mmr_candidates : 4 * k;
    plan.keep = std::min(snapshot->size, std::max(k, pool));
  }
  plan.threads = encoder::resolve_thread_count(options.threads);
  plan.matmul_min_queries = std::max<std::size_t>(1, options.matmul_min_queries);

  std::vector<std::vector<ranker::Candidate>> best;
  {
    // oneDNN's sgemm reads this thread count when the scan's own team is a single thread.
    const encoder::OmpThreadsGuard threads(plan.threads);
    best = ranker::scan(*snapshot, plan);
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    std::vector<ranker::Candidate> chosen =
        mmr ? ranker::select_mmr(*snapshot, best[i], k, options.mmr_lambda) : best[i];
    const std::size_t n = std::min(k, chosen.size());
    for (std::size_t j = 0; j < n; ++j) results[i * k + j] = {chosen[j].id, chosen[j].score};
    counts[i] = n;
  }
}

std::vector<ScoredItem> Ranker::rank(const RankRequest& request, const RankOptions& options) const {
  std::vector<ScoredItem> results(options.k);
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

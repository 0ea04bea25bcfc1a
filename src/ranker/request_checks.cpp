// The checks every ranker makes of a request's values.
#include "ranker/request_checks.hpp"

#include <cmath>
#include <string>

#include "nowrec/error.hpp"

namespace nowrec::ranker {
namespace {

// `what()` names the value; it is called only to build an error message.
template <class What>
void check_vector(std::span<const float> values, std::size_t dim, std::string_view caller,
                  const What& what) {
  if (values.size() != dim) {
    throw Error(ErrorCode::InvalidArgument, std::string(caller) + ": " + what() + " has " +
                                                std::to_string(values.size()) +
                                                " values, expected dim " + std::to_string(dim));
  }
  for (std::size_t j = 0; j < dim; ++j) {
    if (!std::isfinite(values[j])) {
      throw Error(ErrorCode::InvalidArgument, std::string(caller) + ": " + what() +
                                                  " has a non-finite value at position " +
                                                  std::to_string(j));
    }
  }
}

template <class What>
void check_weight(float weight, std::string_view caller, const What& what) {
  if (!std::isfinite(weight)) {
    throw Error(ErrorCode::InvalidArgument, std::string(caller) + ": " + what() + " is not finite");
  }
}

}  // namespace

void check_request(const RankRequest& request, std::size_t index, std::size_t dim,
                   std::string_view caller) {
  const auto name = [index] { return "request " + std::to_string(index); };
  const auto fail = [&](const std::string& what) {
    throw Error(ErrorCode::InvalidArgument, std::string(caller) + ": " + name() + what);
  };
  if (request.query.empty() == request.interests.empty()) {
    fail(" must give exactly one of query and interests");
  }
  if (!request.query.empty()) {
    check_vector(request.query, dim, caller, [&] { return name() + " query"; });
  }
  for (std::size_t i = 0; i < request.interests.size(); ++i) {
    const auto interest = [&] { return name() + " interest " + std::to_string(i); };
    check_vector(request.interests[i].vector, dim, caller, interest);
    check_weight(request.interests[i].weight, caller, [&] { return interest() + " weight"; });
  }
  if (request.calibrate && request.interests.empty()) {
    fail(" asks for calibration, which needs interests");
  }
  if (!request.best_matches.empty() && request.best_matches.size() != request.interests.size()) {
    fail(" best_matches has " + std::to_string(request.best_matches.size()) + " entries for " +
         std::to_string(request.interests.size()) + " interests");
  }
  if (!request.negative.empty()) {
    check_vector(request.negative, dim, caller, [&] { return name() + " negative"; });
  }
  check_weight(request.negative_weight, caller, [&] { return name() + " negative_weight"; });
  check_weight(request.prior_weight, caller, [&] { return name() + " prior_weight"; });
  for (std::size_t b = 0; b < request.boosts.size(); ++b) {
    check_weight(request.boosts[b].score, caller, [&] {
      return name() + " boost " + std::to_string(b) + " (item " +
             std::to_string(request.boosts[b].id) + ")";
    });
  }
}

void check_mmr_lambda(float mmr_lambda, std::string_view caller) {
  if (!(mmr_lambda >= 0.0f && mmr_lambda <= 1.0f)) {
    throw Error(ErrorCode::InvalidArgument, std::string(caller) + ": mmr_lambda must be in [0, 1]");
  }
}

}  // namespace nowrec::ranker

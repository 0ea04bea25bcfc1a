// The checks every ranker makes of a request's values, whichever device then scores it.
#pragma once

#include <cstddef>
#include <string_view>

#include "nowrec/ranker.hpp"

namespace nowrec::ranker {

// Throws Error(InvalidArgument), the message beginning "<caller>: request <index>", for a request
// with neither or both of query and interests, a vector that is not `dim` finite values, a
// weight, prior weight or boost that is not finite, calibration without interests, or
// best_matches not one per interest. Builds no string unless it throws.
void check_request(const RankRequest& request, std::size_t index, std::size_t dim,
                   std::string_view caller);

// Throws Error(InvalidArgument) "<caller>: mmr_lambda must be in [0, 1]" otherwise.
void check_mmr_lambda(float mmr_lambda, std::string_view caller);

}  // namespace nowrec::ranker

// The one check of a RecommenderConfig's values, for the constructor and for a loaded file.
#pragma once

#include <string>

#include "nowrec/error.hpp"
#include "nowrec/recommender.hpp"

namespace nowrec::recommend {

// Throws Error(code) with "<where>: <field> ..." for a non-finite or negative weight, an
// mmr_lambda outside [0, 1] or threads outside [0, kMaxThreads].
void check_config(const RecommenderConfig& config, const std::string& where,
                  ErrorCode code = ErrorCode::InvalidArgument);

}  // namespace nowrec::recommend

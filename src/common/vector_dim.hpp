// The one check of an embedding dimension against kMaxVectorDim, for item indexes, index files
// and interest trackers.
#pragma once

#include <cstddef>
#include <string>

#include "nowrec/error.hpp"
#include "nowrec/limits.hpp"

namespace nowrec::common {

// Throws Error(code) "<what> = <dim> is above the largest allowed, <kMaxVectorDim>" for a dim
// above kMaxVectorDim; `what` names the value (e.g. "ItemIndex: dim").
inline void check_vector_dim(std::size_t dim, const std::string& what,
                             ErrorCode code = ErrorCode::InvalidArgument) {
  if (dim <= kMaxVectorDim) return;
  throw Error(code, what + " = " + std::to_string(dim) + " is above the largest allowed, " +
                        std::to_string(kMaxVectorDim));
}

}  // namespace nowrec::common

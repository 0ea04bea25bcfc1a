// The one check of an embedding dimension (1 to kMaxVectorDim), for item indexes, index files
// and interest trackers.
#pragma once

#include <cstddef>
#include <string>

#include "nowrec/error.hpp"
#include "nowrec/limits.hpp"

namespace nowrec::common {

// Throws Error(code) for a dim of 0 ("<what> is 0, must be positive") or above kMaxVectorDim
// ("<what> = <dim> is above the largest allowed, <kMaxVectorDim>"); `what` names the value (e.g.
// "ItemIndex: dim").
inline void check_vector_dim(std::size_t dim, const std::string& what,
                             ErrorCode code = ErrorCode::InvalidArgument) {
  if (dim == 0) throw Error(code, what + " is 0, must be positive");
  if (dim <= kMaxVectorDim) return;
  throw Error(code, what + " = " + std::to_string(dim) + " is above the largest allowed, " +
                        std::to_string(kMaxVectorDim));
}

}  // namespace nowrec::common

// The largest sizes nowrec accepts from a caller or a file, so that every size computed from them
// fits in memory arithmetic without overflow.
#pragma once

#include <cstddef>

namespace nowrec {

// Embedding dimensions of item indexes and trackers (the largest text embedding models use a few
// thousand).
inline constexpr std::size_t kMaxVectorDim = std::size_t{1} << 16;

// A user id's bytes: longer ids are refused (a snapshot stores the length in 32 bits, and an id is
// copied into every table entry).
inline constexpr std::size_t kMaxUserIdBytes = std::size_t{1} << 16;

// Threads one call may ask for (an encoder's, a ranking's, a recommender's): beyond a few
// thousand, thread creation fails and the process ends.
inline constexpr int kMaxThreads = 4096;

// An event's |weight| x |embedding norm| at most. A user's stored sums (and their squared norms)
// then leave float's range only after more than ten thousand events of that size within one
// half-life; at the sizes real weights and embeddings have (up to about a thousand), billions.
inline constexpr double kMaxEventMagnitude = 1e9;

}  // namespace nowrec

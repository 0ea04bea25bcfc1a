// How a sentence-transformers model turns token states into one embedding: an enum with no
// dependencies, so that device code (CUDA kernels) names the same modes as the host.
#pragma once

namespace nowrec {

enum class PoolingMode { Mean, Cls, Max, MeanSqrtLen, LastToken };

}  // namespace nowrec

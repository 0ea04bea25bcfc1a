// A fixed weight matrix applied to row batches of any height with oneDNN.
#pragma once

#include <cstddef>
#include <memory>

namespace nowrec::encoder {

// dst[M][N] = src[M][K] * W^T (+ bias) for the [N][K] weight layout of PyTorch's nn.Linear.
//
// One primitive serves every M: M is a run-time dimension, and the weights are reordered at
// construction into the layout that primitive prefers. No scratch memory is allocated per call:
// run() takes the caller's scratchpad of scratchpad_bytes().
//
// Thread-safety: run() may be called concurrently (with different dst and scratchpad).
class OnednnMatmul {
 public:
  OnednnMatmul(const float* weight, const float* bias, std::size_t out_features,
               std::size_t in_features);
  OnednnMatmul(OnednnMatmul&&) noexcept;
  OnednnMatmul& operator=(OnednnMatmul&&) noexcept;
  ~OnednnMatmul();

  std::size_t in_features() const noexcept;
  std::size_t out_features() const noexcept;
  std::size_t scratchpad_bytes() const noexcept;

  // src: rows x in_features, dst: rows x out_features, both row-major and dense. oneDNN runs with
  // the calling thread's OpenMP thread count.
  void run(const float* src, std::size_t rows, float* dst, void* scratchpad) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace nowrec::encoder

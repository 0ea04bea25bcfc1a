// A fixed weight matrix applied to row batches of any height with oneDNN.
#pragma once

#include <cstddef>
#include <memory>

namespace nowrec::encoder {

// How a matmul stores its weights and computes. Accumulation and dst are fp32 in every case.
enum class MatmulPrecision {
  F32,
  // bf16 weights and src (converted on entry), on oneDNN's native bf16 kernels (AVX512_BF16 or
  // AMX).
  BF16,
  // The fallback where oneDNN has no native bf16 matmul: fp32 compute on weights rounded to
  // bf16, so the model is the same bf16 model, only its activations stay fp32.
  BF16RoundedWeights,
};

const char* matmul_precision_name(MatmulPrecision precision) noexcept;

// dst[M][N] = src[M][K] * W^T (+ bias) for the [N][K] weight layout of PyTorch's nn.Linear.
//
// oneDNN's fast kernels (brgemm; AMX tiles for bf16 where the CPU has them) need a fixed M, so
// there is one primitive per power of two from 1 to 512 rows, all made at construction. A call
// runs its rows as 512-row blocks, then the largest power of two in the rest, then what is left
// as one more power of two over the last rows (recomputing a few rows of the block before), so
// at most two calls after the 512-row blocks. All share one copy of the weights, reordered at
// construction into the layout the 512-row primitive prefers. Where a fixed M would get only
// oneDNN's reference kernel, one primitive with a run-time M serves every call instead. No
// primitive is made and no scratch memory is allocated per call: run() takes the caller's
// scratchpad of scratchpad_bytes() and, for BF16, a src buffer of src_buffer_bytes(rows).
//
// Thread-safety: run() may be called concurrently (with different dst, scratchpad and src
// buffer).
class OnednnMatmul {
 public:
  // Asking for BF16 where oneDNN cannot run it gives BF16RoundedWeights (see precision()).
  OnednnMatmul(const float* weight, const float* bias, std::size_t out_features,
               std::size_t in_features, MatmulPrecision precision = MatmulPrecision::F32);
  OnednnMatmul(OnednnMatmul&&) noexcept;
  OnednnMatmul& operator=(OnednnMatmul&&) noexcept;
  ~OnednnMatmul();

  std::size_t in_features() const noexcept;
  std::size_t out_features() const noexcept;
  MatmulPrecision precision() const noexcept;
  std::size_t scratchpad_bytes() const noexcept;
  std::size_t src_buffer_bytes(std::size_t rows) const noexcept;

  // src: rows x in_features, dst: rows x out_features, both row-major, dense and fp32. oneDNN
  // runs with the smaller of the calling thread's OpenMP thread count and the one in force at
  // construction.
  void run(const float* src, std::size_t rows, float* dst, void* scratchpad,
           void* src_buffer = nullptr) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace nowrec::encoder

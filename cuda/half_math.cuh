// Device helpers shared by the kernels: fp16/bf16 <-> fp32 and warp / block reductions.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace nowrec::cuda {

__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) {
  return __float2bfloat16_rn(x);
}

// Two adjacent values at once: one conversion instruction per pair where the chip has one.
template <typename T>
struct PairOf;
template <>
struct PairOf<__half> {
  using type = __half2;
};
template <>
struct PairOf<__nv_bfloat16> {
  using type = __nv_bfloat162;
};
template <typename T>
using Pair = typename PairOf<T>::type;

__device__ __forceinline__ float2 to_float2(__half2 x) { return __half22float2(x); }
__device__ __forceinline__ float2 to_float2(__nv_bfloat162 x) { return __bfloat1622float2(x); }

template <typename T>
__device__ __forceinline__ Pair<T> from_float2(float2 x);
template <>
__device__ __forceinline__ __half2 from_float2<__half>(float2 x) {
  return __float22half2_rn(x);
}
template <>
__device__ __forceinline__ __nv_bfloat162 from_float2<__nv_bfloat16>(float2 x) {
  return __float22bfloat162_rn(x);
}

// Four consecutive values (8 bytes of fp16/bf16, 16 of fp32; p aligned to that) as fp32.
template <typename T>
__device__ __forceinline__ float4 load4(const T* p) {
  const uint2 raw = *reinterpret_cast<const uint2*>(p);
  const auto* pairs = reinterpret_cast<const Pair<T>*>(&raw);
  const float2 lo = to_float2(pairs[0]), hi = to_float2(pairs[1]);
  return make_float4(lo.x, lo.y, hi.x, hi.y);
}
__device__ __forceinline__ float4 load4(const float* p) {
  return *reinterpret_cast<const float4*>(p);
}

template <typename T>
__device__ __forceinline__ void store4(T* p, float4 v) {
  uint2 raw;
  auto* pairs = reinterpret_cast<Pair<T>*>(&raw);
  pairs[0] = from_float2<T>(make_float2(v.x, v.y));
  pairs[1] = from_float2<T>(make_float2(v.z, v.w));
  *reinterpret_cast<uint2*>(p) = raw;
}

__device__ __forceinline__ float4 add4(float4 a, float4 b) {
  return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
}
__device__ __forceinline__ float4 max4(float4 a, float4 b) {
  return make_float4(fmaxf(a.x, b.x), fmaxf(a.y, b.y), fmaxf(a.z, b.z), fmaxf(a.w, b.w));
}

__device__ __forceinline__ float warp_sum(float x) {
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float x) {
  __shared__ float partial[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  x = warp_sum(x);
  __syncthreads();  // partial may still be read by a previous call
  if (lane == 0) partial[warp] = x;
  __syncthreads();
  const int warps = blockDim.x / 32;
  x = lane < warps ? partial[lane] : 0.0f;
  return warp_sum(x);
}

}  // namespace nowrec::cuda

// The BERT-family forward pass on the GPU: weights uploaded once, one device arena, cuBLASLt
// matmuls, our kernels in between, and CUDA graphs for small batches.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <tuple>
#include <vector>

#include "cuda/device_memory.cuh"
#include "cuda/gemm.cuh"
#include "cuda/pooling.cuh"
#include "encoder/gpu_batch_plan.hpp"
#include "nowrec/model_folder.hpp"

namespace nowrec::cuda {

// Thread-safety: none; one call at a time (CudaEncoder serialises them).
class BertCudaModel {
 public:
  // Converts and uploads the weights of a folder SequenceEncoder::load has validated, on the
  // current device. Throws Error(Unsupported) for a head size other than 32 or 64.
  BertCudaModel(const ModelFolder& model, HalfType type, const encoder::GpuBatchLimits& limits);
  ~BertCudaModel();
  BertCudaModel(const BertCudaModel&) = delete;
  BertCudaModel& operator=(const BertCudaModel&) = delete;

  std::size_t hidden() const noexcept { return hidden_; }
  std::size_t vocab_size() const noexcept { return vocab_size_; }
  const encoder::GpuBatchLimits& limits() const noexcept { return limits_; }

  // Pooled embeddings of at most limits().max_tokens tokens in at most as many sequences, into
  // out (sequences.size() rows of hidden() floats, host memory). Ids must be validated. The work
  // runs on `stream`; returns once out is filled.
  void encode_chunk(std::span<const std::span<const std::int32_t>> sequences, float* out,
                    cudaStream_t stream);

 private:
  struct Layer {
    DeviceLinear qkv, attention_output, intermediate, output;
    const float *attention_gamma, *attention_beta, *output_gamma, *output_beta;
  };

  void upload_weights(const ModelFolder& model);
  void enqueue_forward(const encoder::ForwardShape& shape, cudaStream_t stream);
  void capture_graph(const encoder::ForwardShape& shape);

  HalfType type_;
  encoder::GpuBatchLimits limits_;
  std::size_t hidden_, heads_, head_dim_, intermediate_, vocab_size_, position_offset_;
  float norm_eps_;
  bool tanh_gelu_;
  PoolMode pool_mode_;
  bool normalize_;

  DeviceMemory weights_;
  const void *word_embeddings_ = nullptr, *position_embeddings_ = nullptr,
             *token_type_embeddings_ = nullptr;
  const float *embedding_gamma_ = nullptr, *embedding_beta_ = nullptr;
  std::vector<Layer> layers_;

  encoder::GpuArenaPlan plan_;
  DeviceMemory arena_;
  PinnedMemory staging_inputs_, staging_output_;
  std::unique_ptr<Gemm> gemm_;             // made once the arena (its workspace) exists
  cudaStream_t capture_stream_ = nullptr;  // graphs are captured here, then launched anywhere
  std::map<std::tuple<std::size_t, std::size_t, std::size_t>, cudaGraphExec_t> graphs_;
  encoder::PackedGpuInputs packed_;
};

}  // namespace nowrec::cuda

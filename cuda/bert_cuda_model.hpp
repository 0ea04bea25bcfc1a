// The BERT-family forward pass on the GPU: weights uploaded once, one device arena, cuBLASLt
// matmuls, our kernels in between, and CUDA graphs for small batches.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "cuda/device_memory.cuh"
#include "cuda/gemm.cuh"
#include "encoder/bert_config.hpp"
#include "encoder/bert_forward.hpp"
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

  std::size_t hidden() const noexcept { return config_.hidden; }
  std::size_t vocab_size() const noexcept { return config_.vocab_size; }
  const encoder::GpuBatchLimits& limits() const noexcept { return limits_; }

  // Runs sequences [first, end) of `batch` (token ids, or input vectors of hidden() floats),
  // at most limits().max_tokens tokens in at most as many sequences, attending causally when
  // `causal`, and writes the output's rows (one per sequence or per token, hidden() floats each)
  // to out in host memory. The input must be checked. The work runs on `stream`; returns once
  // out is filled.
  void encode_chunk(const encoder::PackedSequences& batch, std::size_t first, std::size_t end,
                    bool causal, encoder::ForwardOutput output, float* out, cudaStream_t stream);

 private:
  // A LayerNorm's fp32 weights on the device.
  struct DeviceNorm {
    const float* gamma = nullptr;
    const float* beta = nullptr;
  };
  using Layer = encoder::BertLayer<DeviceLinear, DeviceNorm>;
  class Forward;  // the operations run_bert_forward calls, launched on one stream
  // What a forward pass is launched for; each distinct one has its own CUDA graph.
  struct Launch {
    encoder::ForwardShape shape;
    bool causal = false;
    encoder::ForwardOutput output = encoder::ForwardOutput::Pooled;

    friend auto operator<=>(const Launch&, const Launch&) = default;
  };

  void upload_weights(const ModelFolder& model);
  void enqueue_forward(const Launch& launch, cudaStream_t stream);
  void capture_graph(const Launch& launch);

  HalfType type_;
  encoder::GpuBatchLimits limits_;
  encoder::BertConfig config_;

  DeviceMemory weights_;
  const void *word_embeddings_ = nullptr, *position_embeddings_ = nullptr,
             *token_type_embeddings_ = nullptr;
  DeviceNorm embedding_norm_;
  std::vector<Layer> layers_;

  encoder::GpuArenaPlan plan_;
  DeviceMemory arena_;
  PinnedMemory staging_inputs_, staging_output_;
  std::unique_ptr<Gemm> gemm_;             // made once the arena (its workspace) exists
  cudaStream_t capture_stream_ = nullptr;  // graphs are captured here, then launched anywhere
  std::map<Launch, cudaGraphExec_t> graphs_;
  encoder::PackedGpuInputs packed_;
  std::vector<std::size_t> lengths_;
};

}  // namespace nowrec::cuda

// The BERT-family forward pass on the GPU: weights uploaded once, one device arena, cuBLASLt
// matmuls, our kernels in between, and CUDA graphs for small batches.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
  // to out in host memory. The input must be checked. The work is queued on `stream` and out
  // is filled by the next encode_chunk (so that preparing one chunk on the host overlaps the
  // GPU's work on the one before) or by finish(); every call of a batch uses the same stream.
  void encode_chunk(const encoder::PackedSequences& batch, std::size_t first, std::size_t end,
                    bool causal, encoder::ForwardOutput output, float* out, cudaStream_t stream);
  // Waits for the last chunk and fills its out. After an error, call abandon() instead.
  void finish();
  // Waits for whatever is queued on `stream` and forgets the pending chunk's output.
  void abandon(cudaStream_t stream) noexcept;

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

  // The chunk whose output is still on its way to host memory.
  struct PendingOutput {
    float* out = nullptr;
    std::size_t bytes = 0;
    int slot = 0;
  };
  void complete(const PendingOutput& pending);

  encoder::GpuArenaPlan plan_;
  DeviceMemory arena_;
  PinnedMemory staging_inputs_;
  PinnedMemory staging_output_[2];       // alternate chunks' outputs
  cudaEvent_t inputs_copied_ = nullptr;  // staging_inputs_ may be rewritten
  cudaEvent_t output_copied_[2] = {nullptr, nullptr};
  std::optional<PendingOutput> pending_;
  int next_slot_ = 0;
  std::unique_ptr<Gemm> gemm_;             // made once the arena (its workspace) exists
  cudaStream_t capture_stream_ = nullptr;  // graphs are captured here, then launched anywhere
  std::map<Launch, cudaGraphExec_t> graphs_;
  encoder::PackedGpuInputs packed_;
  std::vector<std::size_t> lengths_;
};

}  // namespace nowrec::cuda

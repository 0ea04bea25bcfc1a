// CudaEncoder: SequenceEncoder's CUDA path. Tokenizes on the host, splits the batch into chunks
// of bounded token count and runs each through BertCudaModel on the caller's stream.
#include <mutex>
#include <string>
#include <vector>

#include "cuda/bert_cuda_model.hpp"
#include "cuda/cuda_check.cuh"
#include "encoder/encoder_front_end.hpp"
#include "encoder/gpu_batch_plan.hpp"
#include "encoder/gpu_encoder.hpp"
#include "nowrec/device.hpp"

namespace nowrec::cuda {
namespace {

// Makes `device` current for one call and restores the caller's device afterwards.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

class CudaEncoder final : public encoder::GpuEncoder {
 public:
  CudaEncoder(const ModelFolder& model, encoder::HalfKind kind)
      : tokenizer_(Tokenizer::load(model)),
        max_length_(model.max_sequence_length()),
        device_(current_device()),
        model_(model, kind == encoder::HalfKind::F16 ? HalfType::F16 : HalfType::BF16,
               encoder::GpuBatchLimits{}) {
    encoder::check_tokenizer_fits(model, tokenizer_, model_.vocab_size());
  }

  const Tokenizer& tokenizer() const noexcept override { return tokenizer_; }

  void encode(std::span<const std::string_view> texts, std::span<float> out,
              void* stream) const override {
    encoder::check_out_size("encode", texts.size(), model_.hidden(), out.size());
    const std::lock_guard lock(mutex_);
    encoder::pack_texts(tokenizer_, texts, max_length_, packed_);
    sequences_.clear();
    for (std::size_t s = 0; s < packed_.sequences(); ++s) {
      sequences_.emplace_back(packed_.ids.data() + packed_.offsets[s], packed_.length(s));
    }
    run(sequences_, out, stream);
  }

  void encode_ids(std::span<const std::span<const std::int32_t>> sequences, std::span<float> out,
                  void* stream) const override {
    encoder::check_out_size("encode_ids", sequences.size(), model_.hidden(), out.size());
    encoder::check_token_sequences(sequences, max_length_, model_.vocab_size());
    const std::lock_guard lock(mutex_);
    run(sequences, out, stream);
  }

 private:
  static int current_device() {
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    return device;
  }

  // Callers hold mutex_.
  void run(std::span<const std::span<const std::int32_t>> sequences, std::span<float> out,
           void* stream) const {
    if (sequences.empty()) return;
    const DeviceGuard on_device(device_);
    lengths_.clear();
    for (const auto& sequence : sequences) lengths_.push_back(sequence.size());
    encoder::chunk_boundaries(lengths_, model_.limits().max_tokens, boundaries_);
    for (std::size_t c = 0; c + 1 < boundaries_.size(); ++c) {
      const std::size_t first = boundaries_[c], end = boundaries_[c + 1];
      model_.encode_chunk(sequences.subspan(first, end - first),
                          out.data() + first * model_.hidden(), static_cast<cudaStream_t>(stream));
    }
  }

  Tokenizer tokenizer_;
  std::size_t max_length_;
  int device_;
  mutable std::mutex mutex_;
  // Guarded by mutex_: the device arena, and host vectors reused so warm calls allocate little.
  mutable BertCudaModel model_;
  mutable encoder::PackedSequences packed_;
  mutable std::vector<std::size_t> lengths_, boundaries_;
  mutable std::vector<std::span<const std::int32_t>> sequences_;
};

}  // namespace
}  // namespace nowrec::cuda

namespace nowrec::encoder {

std::unique_ptr<GpuEncoder> make_gpu_encoder(const ModelFolder& model, HalfKind kind) {
  require_device(Device::CUDA);
  return std::make_unique<cuda::CudaEncoder>(model, kind);
}

}  // namespace nowrec::encoder

// CudaEncoder: SequenceEncoder's CUDA path. The shared front end (encoder_front_end.hpp) checks,
// tokenizes and packs on the host and splits the batch into chunks of bounded token count; each
// runs through BertCudaModel on the caller's stream.
#include <mutex>
#include <optional>
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
      : max_length_(model.max_sequence_length()),
        device_(current_device()),
        model_(model, kind == encoder::HalfKind::F16 ? HalfType::F16 : HalfType::BF16,
               encoder::GpuBatchLimits{}),
        tokenizer_(encoder::load_tokenizer(model, model_.vocab_size())) {}

  std::size_t dim() const noexcept override { return model_.hidden(); }
  bool has_tokenizer() const noexcept override { return tokenizer_.has_value(); }
  const Tokenizer& tokenizer() const override { return encoder::require_tokenizer(tokenizer_); }

  void encode(std::span<const std::string_view> texts, std::span<float> out,
              void* stream) const override {
    const Tokenizer& tokenizer = this->tokenizer();
    encoder::check_out_size("encode", texts.size(), dim(), out.size());
    const std::lock_guard lock(mutex_);
    encoder::pack_texts(tokenizer, texts, max_length_, packed_);
    run(false, encoder::ForwardOutput::Pooled, out.data(), stream);
  }

  void encode_tokens(std::span<const std::string_view> texts, std::vector<float>& out,
                     std::vector<std::size_t>& offsets, void* stream) const override {
    const Tokenizer& tokenizer = this->tokenizer();
    const std::lock_guard lock(mutex_);
    encoder::pack_texts(tokenizer, texts, max_length_, packed_);
    offsets = packed_.offsets;
    out.assign(packed_.tokens() * dim(), 0.0f);
    run(false, encoder::ForwardOutput::Tokens, out.data(), stream);
  }

  void encode_ids(std::span<const std::span<const std::int32_t>> sequences, std::span<float> out,
                  encoder::ForwardOutput output, void* stream) const override {
    const std::size_t tokens =
        encoder::check_token_sequences(sequences, max_length_, model_.vocab_size());
    const bool per_token = output == encoder::ForwardOutput::Tokens;
    encoder::check_out_size("encode_ids", per_token ? tokens : sequences.size(), dim(), out.size());
    const std::lock_guard lock(mutex_);
    encoder::pack_ids(sequences, packed_);
    run(false, output, out.data(), stream);
  }

  void encode_vectors(std::span<const std::span<const float>> sequences, bool causal,
                      std::span<float> out, encoder::ForwardOutput output,
                      void* stream) const override {
    const std::size_t tokens = encoder::check_vector_sequences(sequences, dim(), max_length_);
    const bool per_token = output == encoder::ForwardOutput::Tokens;
    encoder::check_out_size("encode_vectors", per_token ? tokens : sequences.size(), dim(),
                            out.size());
    const std::lock_guard lock(mutex_);
    encoder::pack_vectors(sequences, dim(), packed_);
    run(causal, output, out.data(), stream);
  }

 private:
  static int current_device() {
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    return device;
  }

  // Runs packed_ through the model chunk by chunk; rows go to out in order, one per sequence or
  // per token. Callers hold mutex_.
  void run(bool causal, encoder::ForwardOutput output, float* out, void* stream) const {
    if (packed_.sequences() == 0) return;
    const DeviceGuard on_device(device_);
    lengths_.clear();
    for (std::size_t s = 0; s < packed_.sequences(); ++s) lengths_.push_back(packed_.length(s));
    encoder::chunk_boundaries(lengths_, model_.limits().max_tokens, boundaries_);
    try {
      for (std::size_t c = 0; c + 1 < boundaries_.size(); ++c) {
        const std::size_t first = boundaries_[c], end = boundaries_[c + 1];
        model_.encode_chunk(packed_, first, end, causal, output, out,
                            static_cast<cudaStream_t>(stream));
        const std::size_t rows = output == encoder::ForwardOutput::Tokens
                                     ? packed_.offsets[end] - packed_.offsets[first]
                                     : end - first;
        out += rows * dim();
      }
      model_.finish();
    } catch (...) {
      model_.abandon(static_cast<cudaStream_t>(stream));
      throw;
    }
  }

  std::size_t max_length_;
  int device_;
  mutable std::mutex mutex_;
  // Guarded by mutex_: the device arena, and host vectors reused so warm calls allocate little.
  mutable BertCudaModel model_;
  std::optional<Tokenizer> tokenizer_;  // absent: the model takes vector sequences only
  mutable encoder::PackedSequences packed_;
  mutable std::vector<std::size_t> lengths_, boundaries_;
};

}  // namespace
}  // namespace nowrec::cuda

namespace nowrec::encoder {

std::unique_ptr<GpuEncoder> make_gpu_encoder(const ModelFolder& model, HalfKind kind) {
  require_device(Device::CUDA);
  return std::make_unique<cuda::CudaEncoder>(model, kind);
}

}  // namespace nowrec::encoder

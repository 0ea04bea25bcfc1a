// CudaEncoder: SequenceEncoder's CUDA path. Tokenizes on the host, splits the batch into chunks
// of bounded token count and runs each through BertCudaModel on the caller's stream.
#include <mutex>
#include <string>
#include <vector>

#include "cuda/bert_cuda_model.hpp"
#include "cuda/cuda_check.cuh"
#include "encoder/gpu_batch_plan.hpp"
#include "encoder/gpu_encoder.hpp"
#include "encoder/token_sequence_check.hpp"
#include "nowrec/device.hpp"

namespace nowrec::cuda {
namespace {

void check_out_size(const char* method, std::size_t rows, std::size_t dim, std::size_t got) {
  if (got != rows * dim) {
    throw Error(ErrorCode::InvalidArgument,
                std::string("SequenceEncoder::") + method + ": out holds " + std::to_string(got) +
                    " floats but " + std::to_string(rows) + " inputs of dim " +
                    std::to_string(dim) + " need " + std::to_string(rows * dim));
  }
}

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
    if (tokenizer_.vocab_size() > model_.vocab_size()) {
      throw Error(ErrorCode::InvalidModel, model.path().string() + ": the tokenizer has " +
                                               std::to_string(tokenizer_.vocab_size()) +
                                               " tokens but config.json's vocab_size is " +
                                               std::to_string(model_.vocab_size()));
    }
  }

  const Tokenizer& tokenizer() const noexcept override { return tokenizer_; }

  void encode(std::span<const std::string_view> texts, std::span<float> out,
              void* stream) const override {
    check_out_size("encode", texts.size(), model_.hidden(), out.size());
    TokenizeOptions options;
    options.max_length = max_length_;
    options.truncate = true;
    const std::lock_guard lock(mutex_);
    ids_.clear();
    offsets_.assign(1, 0);
    for (std::string_view text : texts) {
      tokenizer_.encode_ids(text, sequence_ids_, options);
      ids_.insert(ids_.end(), sequence_ids_.begin(), sequence_ids_.end());
      offsets_.push_back(ids_.size());
    }
    sequences_.clear();
    for (std::size_t i = 0; i + 1 < offsets_.size(); ++i) {
      sequences_.emplace_back(ids_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
    }
    run(sequences_, out, stream);
  }

  void encode_ids(std::span<const std::span<const std::int32_t>> sequences, std::span<float> out,
                  void* stream) const override {
    check_out_size("encode_ids", sequences.size(), model_.hidden(), out.size());
    check_ids(sequences);
    const std::lock_guard lock(mutex_);
    run(sequences, out, stream);
  }

 private:
  static int current_device() {
    int device = 0;
    check(cudaGetDevice(&device), "cudaGetDevice");
    return device;
  }

  void check_ids(std::span<const std::span<const std::int32_t>> sequences) const {
    detail::check_token_sequences(sequences, max_length_, model_.vocab_size());
  }

  // Callers hold mutex_.
  void run(std::span<const std::span<const std::int32_t>> sequences, std::span<float> out,
           void* stream) const {
    if (sequences.empty()) return;
    const DeviceGuard on_device(device_);
    lengths_.clear();
    for (const auto& sequence : sequences) lengths_.push_back(sequence.size());
    const std::vector<std::size_t> boundaries =
        encoder::chunk_boundaries(lengths_, model_.limits().max_tokens);
    for (std::size_t c = 0; c + 1 < boundaries.size(); ++c) {
      const std::size_t first = boundaries[c], end = boundaries[c + 1];
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
  mutable std::vector<std::int32_t> ids_, sequence_ids_;
  mutable std::vector<std::size_t> offsets_, lengths_;
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

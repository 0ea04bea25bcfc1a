// The CUDA encoder as SequenceEncoder sees it: an interface free of CUDA headers, built by
// cuda/cuda_encoder.cpp when CUDA is on and refused otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "encoder/bert_forward.hpp"
#include "encoder/half_conversion.hpp"
#include "nowrec/model_folder.hpp"
#include "nowrec/tokenizer.hpp"

namespace nowrec::encoder {

// Thread-safety: the encode methods may be called concurrently; they share one device arena,
// so calls on one encoder run one after another.
class GpuEncoder {
 public:
  virtual ~GpuEncoder() = default;

  virtual std::size_t dim() const noexcept = 0;
  virtual bool has_tokenizer() const noexcept = 0;
  // Throws Error(Unsupported) for a model folder without a tokenizer.
  virtual const Tokenizer& tokenizer() const = 0;

  // As CpuEncoder's methods of the same name (and SequenceEncoder's), with the same checks and
  // errors; `stream` is a cudaStream_t (null: the default stream). They return once out is
  // filled.
  virtual void encode(std::span<const std::string_view> texts, std::span<float> out,
                      void* stream) const = 0;
  virtual void encode_ids(std::span<const std::span<const std::int32_t>> sequences,
                          std::span<float> out, ForwardOutput output, void* stream) const = 0;
  virtual void encode_vectors(std::span<const std::span<const float>> sequences, bool causal,
                              std::span<float> out, ForwardOutput output, void* stream) const = 0;
  virtual void encode_tokens(std::span<const std::string_view> texts, std::vector<float>& out,
                             std::vector<std::size_t>& offsets, void* stream) const = 0;
};

// Uploads the folder's weights (validated by SequenceEncoder::load) in `kind` to the current
// CUDA device and plans its memory. Throws Error(DeviceUnavailable) in a build without CUDA or
// without a usable GPU, Error(Unsupported) for a head size the CUDA attention does not run.
std::unique_ptr<GpuEncoder> make_gpu_encoder(const ModelFolder& model, HalfKind kind);

}  // namespace nowrec::encoder

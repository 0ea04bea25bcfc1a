// SequenceEncoder's encode methods, dispatched to the CPU or CUDA encoder that load() builds.
#include <string>

#include "cpu/dispatch.hpp"
#include "encoder/sequence_encoder_impl.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec {

std::shared_ptr<const SequenceEncoder::Impl> SequenceEncoder::make_impl(
    const ModelFolder& model, const EncoderOptions& options) {
  auto impl = std::make_shared<Impl>();
  if (options.device == Device::CUDA) {
    impl->gpu = encoder::make_gpu_encoder(model, options.dtype == Dtype::BF16
                                                     ? encoder::HalfKind::BF16
                                                     : encoder::HalfKind::F16);
  } else {
    impl->cpu.emplace(model, options.threads, cpu::kernels(),
                      options.dtype == Dtype::BF16 ? encoder::MatmulPrecision::BF16
                                                   : encoder::MatmulPrecision::F32);
  }
  return impl;
}

std::string_view dtype_name(Dtype dtype) noexcept {
  switch (dtype) {
    case Dtype::Default: return "default";
    case Dtype::F32: return "f32";
    case Dtype::F16: return "f16";
    case Dtype::BF16: return "bf16";
  }
  return "unknown";
}

const Tokenizer& SequenceEncoder::tokenizer() const { return impl_->tokenizer(); }

bool SequenceEncoder::has_tokenizer() const noexcept { return impl_->has_tokenizer(); }

void SequenceEncoder::encode(std::span<const std::string_view> texts, std::span<float> out) const {
  encode(texts, out, CudaStream{});
}

std::vector<float> SequenceEncoder::encode(std::span<const std::string_view> texts) const {
  std::vector<float> out(texts.size() * dim());
  encode(texts, out, CudaStream{});
  return out;
}

void SequenceEncoder::encode_ids(std::span<const std::span<const std::int32_t>> sequences,
                                 std::span<float> out) const {
  encode_ids(sequences, out, CudaStream{});
}

std::vector<float> SequenceEncoder::encode_ids(
    std::span<const std::span<const std::int32_t>> sequences) const {
  std::vector<float> out(sequences.size() * dim());
  encode_ids(sequences, out, CudaStream{});
  return out;
}

namespace {

void refuse_stream_on_cpu(const char* method, CudaStream stream) {
  if (stream.handle != nullptr) {
    throw Error(ErrorCode::InvalidArgument,
                std::string("SequenceEncoder::") + method +
                    ": a CUDA stream was given to an encoder loaded for the CPU");
  }
}

}  // namespace

void SequenceEncoder::encode(std::span<const std::string_view> texts, std::span<float> out,
                             CudaStream stream) const {
  if (impl_->gpu) return impl_->gpu->encode(texts, out, stream.handle);
  refuse_stream_on_cpu("encode", stream);
  impl_->cpu->encode(texts, out);
}

void SequenceEncoder::encode_ids(std::span<const std::span<const std::int32_t>> sequences,
                                 std::span<float> out, CudaStream stream) const {
  if (impl_->gpu) {
    return impl_->gpu->encode_ids(sequences, out, encoder::ForwardOutput::Pooled, stream.handle);
  }
  refuse_stream_on_cpu("encode_ids", stream);
  impl_->cpu->encode_ids(sequences, out);
}

}  // namespace nowrec

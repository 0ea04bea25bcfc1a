// SequenceEncoder's encode methods and the CPU encoder that load() builds.
#include "cpu/dispatch.hpp"
#include "encoder/sequence_encoder_impl.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec {

std::shared_ptr<const SequenceEncoder::Impl> SequenceEncoder::make_impl(
    const ModelFolder& model, const EncoderOptions& options) {
  return std::make_shared<const Impl>(model, options.threads, cpu::kernels());
}

const Tokenizer& SequenceEncoder::tokenizer() const noexcept { return impl_->cpu.tokenizer(); }

void SequenceEncoder::encode(std::span<const std::string_view> texts, std::span<float> out) const {
  impl_->cpu.encode(texts, out);
}

std::vector<float> SequenceEncoder::encode(std::span<const std::string_view> texts) const {
  std::vector<float> out(texts.size() * dim());
  impl_->cpu.encode(texts, out);
  return out;
}

void SequenceEncoder::encode_ids(std::span<const std::span<const std::int32_t>> sequences,
                                 std::span<float> out) const {
  impl_->cpu.encode_ids(sequences, out);
}

std::vector<float> SequenceEncoder::encode_ids(
    std::span<const std::span<const std::int32_t>> sequences) const {
  std::vector<float> out(sequences.size() * dim());
  impl_->cpu.encode_ids(sequences, out);
  return out;
}

}  // namespace nowrec

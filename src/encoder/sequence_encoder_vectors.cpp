// SequenceEncoder's per-token and vector-sequence modes, on whichever device the encoder was
// loaded for (the default CUDA stream on a GPU).
#include "encoder/sequence_encoder_impl.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec {
namespace {

using encoder::ForwardOutput;

std::size_t token_count(std::span<const std::span<const float>> sequences, std::size_t dim,
                        TokenStates& states) {
  states.offsets.assign(1, 0);
  for (const auto& sequence : sequences) {
    states.offsets.push_back(states.offsets.back() + sequence.size() / dim);
  }
  return states.offsets.back();
}

}  // namespace

TokenStates SequenceEncoder::encode_tokens(std::span<const std::string_view> texts) const {
  TokenStates states;
  if (impl_->gpu) {
    impl_->gpu->encode_tokens(texts, states.values, states.offsets, nullptr);
  } else {
    impl_->cpu->encode_tokens(texts, states.values, states.offsets);
  }
  return states;
}

TokenStates SequenceEncoder::encode_ids_tokens(
    std::span<const std::span<const std::int32_t>> sequences) const {
  TokenStates states;
  states.offsets.assign(1, 0);
  for (const auto& sequence : sequences) {
    states.offsets.push_back(states.offsets.back() + sequence.size());
  }
  states.values.resize(states.offsets.back() * dim());
  if (impl_->gpu) {
    impl_->gpu->encode_ids(sequences, states.values, ForwardOutput::Tokens, nullptr);
  } else {
    impl_->cpu->encode_ids(sequences, states.values, ForwardOutput::Tokens);
  }
  return states;
}

void SequenceEncoder::encode_vectors(std::span<const std::span<const float>> sequences,
                                     AttentionMask mask, std::span<float> out) const {
  const bool causal = mask == AttentionMask::Causal;
  if (impl_->gpu) {
    impl_->gpu->encode_vectors(sequences, causal, out, ForwardOutput::Pooled, nullptr);
  } else {
    impl_->cpu->encode_vectors(sequences, causal, out, ForwardOutput::Pooled);
  }
}

std::vector<float> SequenceEncoder::encode_vectors(
    std::span<const std::span<const float>> sequences, AttentionMask mask) const {
  std::vector<float> out(sequences.size() * dim());
  encode_vectors(sequences, mask, out);
  return out;
}

TokenStates SequenceEncoder::encode_vectors_tokens(
    std::span<const std::span<const float>> sequences, AttentionMask mask) const {
  TokenStates states;
  // A size that is not a multiple of dim() is refused by the encoder, which names it.
  states.values.resize(token_count(sequences, dim(), states) * dim());
  const bool causal = mask == AttentionMask::Causal;
  if (impl_->gpu) {
    impl_->gpu->encode_vectors(sequences, causal, states.values, ForwardOutput::Tokens, nullptr);
  } else {
    impl_->cpu->encode_vectors(sequences, causal, states.values, ForwardOutput::Tokens);
  }
  return states;
}

}  // namespace nowrec

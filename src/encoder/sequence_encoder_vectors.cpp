// SequenceEncoder's per-token and vector-sequence modes, which run on the CPU encoder only.
#include <string>

#include "encoder/sequence_encoder_impl.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec {
namespace {

using Output = encoder::BertCpuModel::Output;

const encoder::CpuEncoder& cpu_only(const SequenceEncoder::Impl& impl, const char* method) {
  if (!impl.cpu) {
    throw Error(ErrorCode::Unsupported, std::string("SequenceEncoder::") + method +
                                            " runs on the CPU only; this encoder is loaded for "
                                            "CUDA");
  }
  return *impl.cpu;
}

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
  cpu_only(*impl_, "encode_tokens").encode_tokens(texts, states.values, states.offsets);
  return states;
}

TokenStates SequenceEncoder::encode_ids_tokens(
    std::span<const std::span<const std::int32_t>> sequences) const {
  const encoder::CpuEncoder& cpu = cpu_only(*impl_, "encode_ids_tokens");
  TokenStates states;
  states.offsets.assign(1, 0);
  for (const auto& sequence : sequences) {
    states.offsets.push_back(states.offsets.back() + sequence.size());
  }
  states.values.resize(states.offsets.back() * dim());
  cpu.encode_ids(sequences, states.values, Output::Tokens);
  return states;
}

void SequenceEncoder::encode_vectors(std::span<const std::span<const float>> sequences,
                                     AttentionMask mask, std::span<float> out) const {
  cpu_only(*impl_, "encode_vectors")
      .encode_vectors(sequences, mask == AttentionMask::Causal, out, Output::Pooled);
}

std::vector<float> SequenceEncoder::encode_vectors(
    std::span<const std::span<const float>> sequences, AttentionMask mask) const {
  std::vector<float> out(sequences.size() * dim());
  encode_vectors(sequences, mask, out);
  return out;
}

TokenStates SequenceEncoder::encode_vectors_tokens(
    std::span<const std::span<const float>> sequences, AttentionMask mask) const {
  const encoder::CpuEncoder& cpu = cpu_only(*impl_, "encode_vectors_tokens");
  TokenStates states;
  // A size that is not a multiple of dim() is refused by the encoder, which names it.
  states.values.resize(token_count(sequences, dim(), states) * dim());
  cpu.encode_vectors(sequences, mask == AttentionMask::Causal, states.values, Output::Tokens);
  return states;
}

}  // namespace nowrec

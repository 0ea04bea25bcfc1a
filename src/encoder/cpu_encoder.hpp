// The CPU encoder behind SequenceEncoder: the shared front end (encoder_front_end.hpp), then
// BertCpuModel chunk by chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "cpu/dispatch.hpp"
#include "encoder/bert_cpu_model.hpp"
#include "encoder/scratch_arena.hpp"
#include "nowrec/model_folder.hpp"
#include "nowrec/tokenizer.hpp"

namespace nowrec::encoder {

// Thread-safety: the encode methods are const and may be called concurrently; each call works
// in its own arena from the pool.
class CpuEncoder {
 public:
  // `threads` as in EncoderOptions (0: all cores); `kernels` picks the ISA variant. A forward
  // pass holds at most `chunk_tokens` tokens, or the batch's longest sequence when that is more
  // (tests make it small to cut batches at every place).
  CpuEncoder(const ModelFolder& model, int threads, const cpu::KernelTable& kernels,
             MatmulPrecision precision = MatmulPrecision::F32,
             std::size_t chunk_tokens = kDefaultChunkTokens);

  // Large enough that the matmuls run at full speed, small enough that scratch (10 * hidden
  // floats a token for MiniLM: about 31 MB) stays modest.
  static constexpr std::size_t kDefaultChunkTokens = 2048;

  std::size_t dim() const noexcept { return model_.hidden(); }
  std::size_t max_length() const noexcept { return max_length_; }
  bool has_tokenizer() const noexcept { return tokenizer_.has_value(); }
  // Throws Error(Unsupported) for a model folder without a tokenizer.
  const Tokenizer& tokenizer() const;
  MatmulPrecision precision() const noexcept { return model_.precision(); }
  // Scratch memory held between calls (see ArenaPool::reserved_bytes).
  std::size_t scratch_reserved_bytes() const { return arenas_.reserved_bytes(); }

  // out: texts.size() rows of dim() floats. Throws Error(InvalidArgument) for a wrong size.
  void encode(std::span<const std::string_view> texts, std::span<float> out) const;
  // Pre-tokenized sequences, special tokens included. Throws Error(InvalidArgument) for a wrong
  // out size, an empty sequence, one longer than max_length() or an id outside the vocabulary.
  void encode_ids(std::span<const std::span<const std::int32_t>> sequences, std::span<float> out,
                  ForwardOutput output = ForwardOutput::Pooled) const;
  // Sequences of input vectors, each [length][dim()] floats; see SequenceEncoder::encode_vectors.
  void encode_vectors(std::span<const std::span<const float>> sequences, bool causal,
                      std::span<float> out, ForwardOutput output = ForwardOutput::Pooled) const;
  // The per-token hidden states of texts: out grows to [tokens][dim()], offsets to texts + 1.
  void encode_tokens(std::span<const std::string_view> texts, std::vector<float>& out,
                     std::vector<std::size_t>& offsets) const;

 private:
  // Runs the arena's packed batch through the model in chunks of a bounded token count; rows go
  // to out in order, one per sequence or per token.
  void run(ScratchArena& arena, float* out, ForwardOutput output, bool causal) const;

  BertCpuModel model_;
  std::optional<Tokenizer> tokenizer_;  // absent: the model takes vector sequences only
  std::size_t max_length_;
  std::size_t chunk_tokens_;
  mutable ArenaPool arenas_;
};

}  // namespace nowrec::encoder

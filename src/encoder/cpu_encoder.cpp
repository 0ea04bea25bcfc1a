// CpuEncoder: from texts, token ids or vectors to pooled embeddings or token states, in bounded
// chunks of packed tokens.
#include "encoder/cpu_encoder.hpp"

#include <algorithm>
#include <string>

#include "encoder/encoder_front_end.hpp"
#include "encoder/thread_count.hpp"
#include "nowrec/error.hpp"

namespace nowrec::encoder {

CpuEncoder::CpuEncoder(const ModelFolder& model, int threads, const cpu::KernelTable& kernels,
                       MatmulPrecision precision, std::size_t chunk_tokens)
    : model_(model, kernels, resolve_thread_count(threads), precision),
      tokenizer_(load_tokenizer(model, model_.vocab_size())),
      max_length_(model.max_sequence_length()),
      chunk_tokens_(chunk_tokens) {}

const Tokenizer& CpuEncoder::tokenizer() const { return require_tokenizer(tokenizer_); }

void CpuEncoder::run(ScratchArena& arena, float* out, ForwardOutput output, bool causal) const {
  const PackedSequences& packed = arena.batch;
  const bool vectors = packed.from_vectors;
  arena.lengths.clear();
  std::size_t longest = 0;
  for (std::size_t s = 0; s < packed.sequences(); ++s) {
    arena.lengths.push_back(packed.length(s));
    longest = std::max(longest, packed.length(s));
  }
  // A sequence is never split, so a pass holds at least the longest one.
  chunk_boundaries(arena.lengths, std::max(chunk_tokens_, longest), arena.boundaries);
  for (std::size_t c = 0; c + 1 < arena.boundaries.size(); ++c) {
    const std::size_t first = arena.boundaries[c], end = arena.boundaries[c + 1];
    const std::size_t base = packed.offsets[first], tokens = packed.offsets[end] - base;
    arena.chunk_offsets.clear();
    std::size_t chunk_longest = 0;
    for (std::size_t s = first; s <= end; ++s) {
      arena.chunk_offsets.push_back(packed.offsets[s] - base);
      if (s < end) chunk_longest = std::max(chunk_longest, packed.length(s));
    }
    const PackedBatch batch{
        vectors ? std::span<const std::int32_t>() : std::span(packed.ids).subspan(base, tokens),
        arena.chunk_offsets, vectors ? packed.vectors.data() + base * dim() : nullptr, causal};
    std::byte* scratch = arena.reserve(model_.scratch_bytes(tokens, chunk_longest));
    model_.forward(batch, scratch, out, output);
    out += (output == ForwardOutput::Tokens ? tokens : end - first) * dim();
  }
}

void CpuEncoder::encode(std::span<const std::string_view> texts, std::span<float> out) const {
  const Tokenizer& tokenizer = this->tokenizer();
  check_out_size("encode", texts.size(), dim(), out.size());
  ArenaPool::Lease arena = arenas_.acquire();
  pack_texts(tokenizer, texts, max_length_, arena->batch);
  run(*arena, out.data(), ForwardOutput::Pooled, false);
}

void CpuEncoder::encode_tokens(std::span<const std::string_view> texts, std::vector<float>& out,
                               std::vector<std::size_t>& offsets) const {
  const Tokenizer& tokenizer = this->tokenizer();
  ArenaPool::Lease arena = arenas_.acquire();
  pack_texts(tokenizer, texts, max_length_, arena->batch);
  offsets = arena->batch.offsets;
  out.assign(arena->batch.tokens() * dim(), 0.0f);
  run(*arena, out.data(), ForwardOutput::Tokens, false);
}

void CpuEncoder::encode_ids(std::span<const std::span<const std::int32_t>> sequences,
                            std::span<float> out, ForwardOutput output) const {
  const std::size_t tokens = check_token_sequences(sequences, max_length_, model_.vocab_size());
  const bool per_token = output == ForwardOutput::Tokens;
  check_out_size("encode_ids", per_token ? tokens : sequences.size(), dim(), out.size());
  ArenaPool::Lease arena = arenas_.acquire();
  pack_ids(sequences, arena->batch);
  run(*arena, out.data(), output, false);
}

void CpuEncoder::encode_vectors(std::span<const std::span<const float>> sequences, bool causal,
                                std::span<float> out, ForwardOutput output) const {
  const std::size_t tokens = check_vector_sequences(sequences, dim(), max_length_);
  const bool per_token = output == ForwardOutput::Tokens;
  check_out_size("encode_vectors", per_token ? tokens : sequences.size(), dim(), out.size());
  ArenaPool::Lease arena = arenas_.acquire();
  pack_vectors(sequences, dim(), arena->batch);
  run(*arena, out.data(), output, causal);
}

}  // namespace nowrec::encoder

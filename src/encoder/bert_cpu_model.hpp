// The BERT-family forward pass on the CPU over a packed batch: every token of every sequence in
// one [tokens][hidden] matrix, so no work is spent on padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cpu/dispatch.hpp"
#include "encoder/bert_config.hpp"
#include "encoder/bert_forward.hpp"
#include "encoder/bert_weights.hpp"
#include "encoder/onednn_matmul.hpp"
#include "nowrec/model_folder.hpp"

namespace nowrec::encoder {

// Sequences laid end to end: sequence s is tokens [offsets[s], offsets[s + 1]), given as ids
// or, when `vectors` is set, as rows of [tokens][hidden] input vectors that replace the word
// embeddings.
struct PackedBatch {
  std::span<const std::int32_t> ids;
  std::span<const std::size_t> offsets;  // sequences + 1 entries, offsets[0] == 0
  const float* vectors = nullptr;
  bool causal = false;  // token t attends to tokens 0..t of its sequence only

  std::size_t sequences() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::size_t tokens() const noexcept { return offsets.empty() ? 0 : offsets.back(); }
};

// Thread-safety: forward() is const and may run concurrently with different scratch memory.
class BertCpuModel {
 public:
  // `kernels` picks the ISA variant (tests run each); `threads` > 0 is the thread count of every
  // parallel loop and matmul; `precision` is asked of every matmul (see precision()).
  BertCpuModel(const ModelFolder& model, const cpu::KernelTable& kernels, int threads,
               MatmulPrecision precision = MatmulPrecision::F32);

  std::size_t hidden() const noexcept { return config_.hidden; }
  std::size_t vocab_size() const noexcept { return config_.vocab_size; }
  const cpu::KernelTable& kernels() const noexcept { return *kernels_; }
  // What the matmuls run: the precision asked for, or BF16RoundedWeights where oneDNN has no
  // bf16 matmul.
  MatmulPrecision precision() const noexcept { return precision_; }

  // Bytes of scratch forward() needs for a batch of `tokens` tokens whose longest sequence has
  // `longest` tokens.
  std::size_t scratch_bytes(std::size_t tokens, std::size_t longest) const noexcept;

  // Writes the batch's rows of hidden() floats to out. Ids and lengths must already be
  // validated.
  void forward(const PackedBatch& batch, std::byte* scratch, float* out,
               ForwardOutput output = ForwardOutput::Pooled) const;

 private:
  // A linear layer as oneDNN runs it. `bias` is what the kernel after the matmul adds (fused
  // with GELU or with residual + LayerNorm); it is empty when the matmul adds the bias itself.
  struct Linear {
    OnednnMatmul matmul;
    std::vector<float> bias;
  };
  using Layer = BertLayer<Linear, NormWeights>;
  struct Buffers;
  class Forward;  // the operations run_bert_forward calls, for one batch

  std::size_t matmul_src_bytes(std::size_t tokens) const noexcept;
  Buffers plan(std::byte* scratch, std::size_t tokens, std::size_t longest) const noexcept;

  const cpu::KernelTable* kernels_;
  int threads_;
  BertConfig config_;
  std::vector<float> word_embeddings_, position_embeddings_, token_type_embeddings_;
  NormWeights embedding_norm_;
  std::vector<Layer> layers_;
  std::size_t matmul_scratchpad_bytes_ = 0;
  MatmulPrecision precision_ = MatmulPrecision::F32;
};

}  // namespace nowrec::encoder

// BertCpuModel: embeddings, transformer layers and pooling over a packed batch, with oneDNN
// matmuls and the per-ISA kernels of src/cpu.
#include "encoder/bert_cpu_model.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "cpu/attention_kernels.hpp"
#include "encoder/thread_count.hpp"

namespace nowrec::encoder {
namespace {

constexpr std::size_t kAlignment = 64;

std::size_t aligned(std::size_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

// Rows below this are cheaper than waking the thread team.
constexpr std::size_t kMinRowsPerParallelLoop = 8;

}  // namespace

// Regions of one forward call's scratch.
struct BertCpuModel::Buffers {
  float* x;          // [tokens][hidden]: the hidden states, updated layer by layer
  float* qkv;        // [tokens][3 * hidden]
  float* context;    // [tokens][hidden]: attention output before its projection
  float* projected;  // [tokens][hidden]: a projection before bias + residual + LayerNorm
  float* inner;      // [tokens][intermediate]
  float* attention;  // threads_ * per_thread_attention
  void* matmul_src;  // [tokens][intermediate] bf16: a matmul's src converted, for bf16 matmuls
  std::size_t per_thread_attention;
  void* matmul_scratchpad;
  std::size_t tokens;
};

BertCpuModel::BertCpuModel(const ModelFolder& model, const cpu::KernelTable& kernels, int threads,
                           MatmulPrecision precision)
    : kernels_(&kernels), threads_(threads), precision_(precision) {
  const TransformerConfig& config = model.config();
  hidden_ = static_cast<std::size_t>(config.hidden_size);
  heads_ = static_cast<std::size_t>(config.num_attention_heads);
  head_dim_ = hidden_ / heads_;
  intermediate_size_ = static_cast<std::size_t>(config.intermediate_size);
  vocab_size_ = static_cast<std::size_t>(config.vocab_size);
  const bool roberta = config.model_type == "roberta" || config.model_type == "xlm-roberta";
  position_offset_ = roberta ? static_cast<std::size_t>(config.pad_token_id) + 1 : 0;
  norm_eps_ = static_cast<float>(config.layer_norm_eps);
  tanh_gelu_ = config.hidden_act == "gelu_new" || config.hidden_act == "gelu_pytorch_tanh";
  pooling_ = model.pooling();

  BertWeights weights = read_bert_weights(model);
  // oneDNN fixes a primitive's thread count when it is created and wakes that many threads on
  // every run; creating them under any other count leaves threads spinning for nothing.
  const OmpThreadsGuard creation_threads(threads_);
  word_embeddings_ = std::move(weights.word_embeddings);
  position_embeddings_ = std::move(weights.position_embeddings);
  token_type_embeddings_ = std::move(weights.token_type_embeddings);
  embedding_norm_ = std::move(weights.embedding_norm);
  for (LayerWeights& w : weights.layers) {
    auto matmul = [precision](const LinearWeights& linear, bool with_bias) {
      return OnednnMatmul(linear.weight.data(), with_bias ? linear.bias.data() : nullptr,
                          linear.out, linear.in, precision);
    };
    // Biases that precede a fused kernel (residual + LayerNorm, GELU) are added there instead.
    layers_.push_back(Layer{
        matmul(w.qkv, true), matmul(w.attention_output, false), matmul(w.intermediate, false),
        matmul(w.output, false), std::move(w.attention_output.bias), std::move(w.intermediate.bias),
        std::move(w.output.bias), std::move(w.attention_norm), std::move(w.output_norm)});
    // The fp32 copies now live inside oneDNN's packed weights.
    w = LayerWeights{};
    const Layer& layer = layers_.back();
    for (const OnednnMatmul* m :
         {&layer.qkv, &layer.attention_output, &layer.intermediate, &layer.output}) {
      matmul_scratchpad_bytes_ = std::max(matmul_scratchpad_bytes_, m->scratchpad_bytes());
    }
  }
  // oneDNN decides per shape; the model reports the first matmul's choice, and a mix (never
  // seen, but possible) still computes correctly.
  if (!layers_.empty()) precision_ = layers_.front().qkv.precision();
}

std::size_t BertCpuModel::matmul_src_bytes(std::size_t tokens) const noexcept {
  std::size_t bytes = 0;
  for (const Layer& layer : layers_) {
    for (const OnednnMatmul* m :
         {&layer.qkv, &layer.attention_output, &layer.intermediate, &layer.output}) {
      bytes = std::max(bytes, m->src_buffer_bytes(tokens));
    }
  }
  return bytes;
}

std::size_t BertCpuModel::scratch_bytes(std::size_t tokens, std::size_t longest) const noexcept {
  const std::size_t f = sizeof(float);
  return aligned(tokens * hidden_ * f) * 3 + aligned(tokens * 3 * hidden_ * f) +
         aligned(tokens * intermediate_size_ * f) + aligned(matmul_src_bytes(tokens)) +
         aligned(static_cast<std::size_t>(threads_) *
                 cpu::attention_scratch_floats(longest, head_dim_) * f) +
         aligned(matmul_scratchpad_bytes_);
}

BertCpuModel::Buffers BertCpuModel::plan(std::byte* scratch, std::size_t tokens,
                                         std::size_t longest) const noexcept {
  auto take = [&scratch](std::size_t floats) {
    auto* region = reinterpret_cast<float*>(scratch);
    scratch += aligned(floats * sizeof(float));
    return region;
  };
  Buffers b{};
  b.tokens = tokens;
  b.x = take(tokens * hidden_);
  b.qkv = take(tokens * 3 * hidden_);
  b.context = take(tokens * hidden_);
  b.projected = take(tokens * hidden_);
  b.inner = take(tokens * intermediate_size_);
  b.per_thread_attention = cpu::attention_scratch_floats(longest, head_dim_);
  b.attention = take(static_cast<std::size_t>(threads_) * b.per_thread_attention);
  b.matmul_src = scratch;
  scratch += aligned(matmul_src_bytes(tokens));
  b.matmul_scratchpad = scratch;
  return b;
}

void BertCpuModel::forward(const PackedBatch& batch, std::byte* scratch, float* out,
                           Output output) const {
  const std::size_t sequences = batch.sequences();
  if (sequences == 0) return;
  std::size_t longest = 0;
  for (std::size_t s = 0; s < sequences; ++s) {
    longest = std::max(longest, batch.offsets[s + 1] - batch.offsets[s]);
  }
  const Buffers buffers = plan(scratch, batch.tokens(), longest);
  const OmpThreadsGuard threads(threads_);
  embed(batch, buffers.x);
  for (const Layer& layer : layers_) run_layer(layer, batch, buffers);
  if (output == Output::Tokens) {
    std::copy(buffers.x, buffers.x + batch.tokens() * hidden_, out);
  } else {
    pool(batch, buffers.x, out);
  }
}

void BertCpuModel::embed(const PackedBatch& batch, float* x) const {
  const std::size_t tokens = batch.tokens();
  const std::size_t sequences = batch.sequences();
  const cpu::KernelTable& k = *kernels_;
  const std::int64_t count = static_cast<std::int64_t>(sequences);
#pragma omp parallel for schedule(dynamic) \
    num_threads(threads_) if (tokens >= kMinRowsPerParallelLoop)
  for (std::int64_t s = 0; s < count; ++s) {
    const std::size_t begin = batch.offsets[s], end = batch.offsets[s + 1];
    for (std::size_t t = begin; t < end; ++t) {
      const float* word =
          batch.vectors != nullptr
              ? batch.vectors + t * hidden_
              : word_embeddings_.data() + static_cast<std::size_t>(batch.ids[t]) * hidden_;
      const std::size_t position = t - begin + position_offset_;
      k.embedding_layer_norm(word, position_embeddings_.data() + position * hidden_,
                             token_type_embeddings_.data(), embedding_norm_.gamma.data(),
                             embedding_norm_.beta.data(), norm_eps_, x + t * hidden_, hidden_);
    }
  }
}

void BertCpuModel::run_layer(const Layer& layer, const PackedBatch& batch, const Buffers& b) const {
  const cpu::KernelTable& k = *kernels_;
  const std::size_t tokens = b.tokens;
  const std::int64_t rows = static_cast<std::int64_t>(tokens);
  const bool parallel_rows = tokens >= kMinRowsPerParallelLoop;
  const std::size_t qkv_stride = 3 * hidden_;

  layer.qkv.run(b.x, tokens, b.qkv, b.matmul_scratchpad, b.matmul_src);

  // One task per (sequence, head); sequences differ in length, hence dynamic scheduling.
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim_));
  const std::int64_t tasks = static_cast<std::int64_t>(batch.sequences() * heads_);
  const auto attention_head = batch.causal ? k.causal_attention_head : k.attention_head;
#pragma omp parallel for schedule(dynamic) num_threads(threads_) if (tasks > 1)
  for (std::int64_t task = 0; task < tasks; ++task) {
    const std::size_t s = static_cast<std::size_t>(task) / heads_;
    const std::size_t h = static_cast<std::size_t>(task) % heads_;
    const std::size_t begin = batch.offsets[s], length = batch.offsets[s + 1] - begin;
    const float* q = b.qkv + begin * qkv_stride + h * head_dim_;
    float* thread_scratch =
        b.attention + static_cast<std::size_t>(omp_get_thread_num()) * b.per_thread_attention;
    attention_head(q, q + hidden_, q + 2 * hidden_, qkv_stride, length, head_dim_, scale,
                   thread_scratch, b.context + begin * hidden_ + h * head_dim_, hidden_);
  }

  layer.attention_output.run(b.context, tokens, b.projected, b.matmul_scratchpad, b.matmul_src);
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_rows)
  for (std::int64_t t = 0; t < rows; ++t) {
    float* x = b.x + t * hidden_;
    k.bias_residual_layer_norm(b.projected + t * hidden_, layer.attention_output_bias.data(), x,
                               layer.attention_norm.gamma.data(), layer.attention_norm.beta.data(),
                               norm_eps_, x, hidden_);
  }

  layer.intermediate.run(b.x, tokens, b.inner, b.matmul_scratchpad, b.matmul_src);
  const auto gelu = tanh_gelu_ ? k.bias_gelu_tanh : k.bias_gelu_erf;
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_rows)
  for (std::int64_t t = 0; t < rows; ++t) {
    gelu(b.inner + t * intermediate_size_, layer.intermediate_bias.data(), intermediate_size_);
  }

  layer.output.run(b.inner, tokens, b.projected, b.matmul_scratchpad, b.matmul_src);
#pragma omp parallel for schedule(static) num_threads(threads_) if (parallel_rows)
  for (std::int64_t t = 0; t < rows; ++t) {
    float* x = b.x + t * hidden_;
    k.bias_residual_layer_norm(b.projected + t * hidden_, layer.output_bias.data(), x,
                               layer.output_norm.gamma.data(), layer.output_norm.beta.data(),
                               norm_eps_, x, hidden_);
  }
}

void BertCpuModel::pool(const PackedBatch& batch, const float* x, float* out) const {
  const cpu::KernelTable& k = *kernels_;
  const std::int64_t count = static_cast<std::int64_t>(batch.sequences());
#pragma omp parallel for schedule(static) num_threads(threads_) if (count >= 8)
  for (std::int64_t s = 0; s < count; ++s) {
    const std::size_t begin = batch.offsets[s], length = batch.offsets[s + 1] - begin;
    const float* rows = x + begin * hidden_;
    float* row_out = out + s * hidden_;
    if (length == 0) {
      // A tokenizer without special tokens can yield nothing; sentence-transformers gives zeros.
      std::fill(row_out, row_out + hidden_, 0.0f);
      continue;
    }
    switch (pooling_.mode) {
      case PoolingMode::Mean:
        k.sum_rows(rows, length, hidden_, hidden_, static_cast<float>(length), row_out);
        break;
      case PoolingMode::MeanSqrtLen:
        k.sum_rows(rows, length, hidden_, hidden_, std::sqrt(static_cast<float>(length)), row_out);
        break;
      case PoolingMode::Max:
        k.max_rows(rows, length, hidden_, hidden_, row_out);
        break;
      case PoolingMode::Cls:
        std::copy(rows, rows + hidden_, row_out);
        break;
      case PoolingMode::LastToken:
        std::copy(rows + (length - 1) * hidden_, rows + length * hidden_, row_out);
        break;
    }
    if (pooling_.normalize) k.l2_normalize(row_out, hidden_);
  }
}

}  // namespace nowrec::encoder

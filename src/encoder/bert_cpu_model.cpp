// BertCpuModel: the operations of the forward pass (bert_forward.hpp) over a packed batch, with
// oneDNN matmuls and the per-ISA kernels of src/cpu.
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
  BertActivations<float*> activations;
  float* attention;  // threads_ * per_thread_attention
  void* matmul_src;  // [tokens][intermediate] bf16: a matmul's src converted, for bf16 matmuls
  std::size_t per_thread_attention;
  void* matmul_scratchpad;
  std::size_t tokens;
};

// run_bert_forward's operations over one packed batch, on the calling thread's OpenMP team.
class BertCpuModel::Forward {
 public:
  Forward(const BertCpuModel& model, const PackedBatch& batch, const Buffers& buffers, float* out,
          ForwardOutput output)
      : m_(model),
        k_(*model.kernels_),
        batch_(batch),
        b_(buffers),
        out_(out),
        output_(output),
        rows_(static_cast<std::int64_t>(buffers.tokens)),
        parallel_rows_(buffers.tokens >= kMinRowsPerParallelLoop) {}

  void embed(float* x) const {
    const std::size_t hidden = m_.config_.hidden;
    const std::int64_t count = static_cast<std::int64_t>(batch_.sequences());
#pragma omp parallel for schedule(dynamic) num_threads(m_.threads_) if (parallel_rows_)
    for (std::int64_t s = 0; s < count; ++s) {
      const std::size_t begin = batch_.offsets[s], end = batch_.offsets[s + 1];
      for (std::size_t t = begin; t < end; ++t) {
        const float* word =
            batch_.vectors != nullptr
                ? batch_.vectors + t * hidden
                : m_.word_embeddings_.data() + static_cast<std::size_t>(batch_.ids[t]) * hidden;
        const std::size_t position = t - begin + m_.config_.position_offset;
        k_.embedding_layer_norm(word, m_.position_embeddings_.data() + position * hidden,
                                m_.token_type_embeddings_.data(), m_.embedding_norm_.gamma.data(),
                                m_.embedding_norm_.beta.data(), m_.config_.norm_eps, x + t * hidden,
                                hidden);
      }
    }
  }

  // The matmul adds the bias (see Linear).
  void linear(const Linear& w, const float* in, float* out) const {
    w.matmul.run(in, b_.tokens, out, b_.matmul_scratchpad, b_.matmul_src);
  }

  void attention(const float* qkv, float* context) const {
    const std::size_t hidden = m_.config_.hidden, heads = m_.config_.heads;
    const std::size_t head_dim = m_.config_.head_dim, qkv_stride = 3 * hidden;
    // One task per (sequence, head); sequences differ in length, hence dynamic scheduling.
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    const std::int64_t tasks = static_cast<std::int64_t>(batch_.sequences() * heads);
    const auto attention_head = batch_.causal ? k_.causal_attention_head : k_.attention_head;
#pragma omp parallel for schedule(dynamic) num_threads(m_.threads_) if (tasks > 1)
    for (std::int64_t task = 0; task < tasks; ++task) {
      const std::size_t s = static_cast<std::size_t>(task) / heads;
      const std::size_t h = static_cast<std::size_t>(task) % heads;
      const std::size_t begin = batch_.offsets[s], length = batch_.offsets[s + 1] - begin;
      const float* q = qkv + begin * qkv_stride + h * head_dim;
      float* thread_scratch =
          b_.attention + static_cast<std::size_t>(omp_get_thread_num()) * b_.per_thread_attention;
      attention_head(q, q + hidden, q + 2 * hidden, qkv_stride, length, head_dim, scale,
                     thread_scratch, context + begin * hidden + h * head_dim, hidden);
    }
  }

  void linear_gelu(const Linear& w, const float* in, float* out) const {
    w.matmul.run(in, b_.tokens, out, b_.matmul_scratchpad, b_.matmul_src);
    const std::size_t cols = w.bias.size();
    const auto gelu = m_.config_.tanh_gelu ? k_.bias_gelu_tanh : k_.bias_gelu_erf;
#pragma omp parallel for schedule(static) num_threads(m_.threads_) if (parallel_rows_)
    for (std::int64_t t = 0; t < rows_; ++t) gelu(out + t * cols, w.bias.data(), cols);
  }

  void linear_residual_norm(const Linear& w, const NormWeights& norm, const float* in,
                            float* projected, float* x) const {
    w.matmul.run(in, b_.tokens, projected, b_.matmul_scratchpad, b_.matmul_src);
    const std::size_t hidden = m_.config_.hidden;
#pragma omp parallel for schedule(static) num_threads(m_.threads_) if (parallel_rows_)
    for (std::int64_t t = 0; t < rows_; ++t) {
      float* row = x + t * hidden;
      k_.bias_residual_layer_norm(projected + t * hidden, w.bias.data(), row, norm.gamma.data(),
                                  norm.beta.data(), m_.config_.norm_eps, row, hidden);
    }
  }

  void finish(const float* x) const {
    if (output_ == ForwardOutput::Tokens) {
      std::copy(x, x + b_.tokens * m_.config_.hidden, out_);
    } else {
      pool(x);
    }
  }

 private:
  void pool(const float* x) const {
    const std::size_t hidden = m_.config_.hidden;
    const PoolingConfig& pooling = m_.config_.pooling;
    const std::int64_t count = static_cast<std::int64_t>(batch_.sequences());
#pragma omp parallel for schedule(static) num_threads(m_.threads_) if (count >= 8)
    for (std::int64_t s = 0; s < count; ++s) {
      const std::size_t begin = batch_.offsets[s], length = batch_.offsets[s + 1] - begin;
      const float* rows = x + begin * hidden;
      float* row_out = out_ + s * hidden;
      if (length == 0) {
        // A tokenizer without special tokens can yield nothing; sentence-transformers gives zeros.
        std::fill(row_out, row_out + hidden, 0.0f);
        continue;
      }
      switch (pooling.mode) {
        case PoolingMode::Mean:
          k_.sum_rows(rows, length, hidden, hidden, static_cast<float>(length), row_out);
          break;
        case PoolingMode::MeanSqrtLen:
          k_.sum_rows(rows, length, hidden, hidden, std::sqrt(static_cast<float>(length)), row_out);
          break;
        case PoolingMode::Max:
          k_.max_rows(rows, length, hidden, hidden, row_out);
          break;
        case PoolingMode::Cls:
          std::copy(rows, rows + hidden, row_out);
          break;
        case PoolingMode::LastToken:
          std::copy(rows + (length - 1) * hidden, rows + length * hidden, row_out);
          break;
      }
      if (pooling.normalize) k_.l2_normalize(row_out, hidden);
    }
  }

  const BertCpuModel& m_;
  const cpu::KernelTable& k_;
  const PackedBatch& batch_;
  const Buffers& b_;
  float* out_;
  ForwardOutput output_;
  std::int64_t rows_;
  bool parallel_rows_;
};

BertCpuModel::BertCpuModel(const ModelFolder& model, const cpu::KernelTable& kernels, int threads,
                           MatmulPrecision precision)
    : kernels_(&kernels),
      threads_(threads),
      config_(read_bert_config(model)),
      precision_(precision) {
  BertWeights weights = read_bert_weights(model);
  // oneDNN fixes a primitive's thread count when it is created and wakes that many threads on
  // every run; creating them under any other count leaves threads spinning for nothing.
  const OmpThreadsGuard creation_threads(threads_);
  word_embeddings_ = std::move(weights.word_embeddings);
  position_embeddings_ = std::move(weights.position_embeddings);
  token_type_embeddings_ = std::move(weights.token_type_embeddings);
  embedding_norm_ = std::move(weights.embedding_norm);
  for (LayerWeights& w : weights.layers) {
    // Biases that precede a fused kernel (residual + LayerNorm, GELU) are added there instead.
    auto fused_bias = [precision](LinearWeights& linear) {
      return Linear{OnednnMatmul(linear.weight.data(), nullptr, linear.out, linear.in, precision),
                    std::move(linear.bias)};
    };
    Linear qkv{OnednnMatmul(w.qkv.weight.data(), w.qkv.bias.data(), w.qkv.out, w.qkv.in, precision),
               {}};
    layers_.push_back(Layer{std::move(qkv), fused_bias(w.attention_output),
                            std::move(w.attention_norm), fused_bias(w.intermediate),
                            fused_bias(w.output), std::move(w.output_norm)});
    // The fp32 copies now live inside oneDNN's packed weights.
    w = LayerWeights{};
    const Layer& layer = layers_.back();
    for (const Linear* l :
         {&layer.qkv, &layer.attention_output, &layer.intermediate, &layer.output}) {
      matmul_scratchpad_bytes_ = std::max(matmul_scratchpad_bytes_, l->matmul.scratchpad_bytes());
    }
  }
  // oneDNN decides per shape; the model reports the first matmul's choice, and a mix (never
  // seen, but possible) still computes correctly.
  if (!layers_.empty()) precision_ = layers_.front().qkv.matmul.precision();
}

std::size_t BertCpuModel::matmul_src_bytes(std::size_t tokens) const noexcept {
  std::size_t bytes = 0;
  for (const Layer& layer : layers_) {
    for (const Linear* l :
         {&layer.qkv, &layer.attention_output, &layer.intermediate, &layer.output}) {
      bytes = std::max(bytes, l->matmul.src_buffer_bytes(tokens));
    }
  }
  return bytes;
}

std::size_t BertCpuModel::scratch_bytes(std::size_t tokens, std::size_t longest) const noexcept {
  const std::size_t f = sizeof(float), hidden = config_.hidden;
  return aligned(tokens * hidden * f) * 3 + aligned(tokens * 3 * hidden * f) +
         aligned(tokens * config_.intermediate * f) + aligned(matmul_src_bytes(tokens)) +
         aligned(static_cast<std::size_t>(threads_) *
                 cpu::attention_scratch_floats(longest, config_.head_dim) * f) +
         aligned(matmul_scratchpad_bytes_);
}

BertCpuModel::Buffers BertCpuModel::plan(std::byte* scratch, std::size_t tokens,
                                         std::size_t longest) const noexcept {
  auto take = [&scratch](std::size_t floats) {
    auto* region = reinterpret_cast<float*>(scratch);
    scratch += aligned(floats * sizeof(float));
    return region;
  };
  const std::size_t hidden = config_.hidden;
  Buffers b{};
  b.tokens = tokens;
  b.activations.x = take(tokens * hidden);
  b.activations.qkv = take(tokens * 3 * hidden);
  b.activations.context = take(tokens * hidden);
  b.activations.projected = take(tokens * hidden);
  b.activations.inner = take(tokens * config_.intermediate);
  b.per_thread_attention = cpu::attention_scratch_floats(longest, config_.head_dim);
  b.attention = take(static_cast<std::size_t>(threads_) * b.per_thread_attention);
  b.matmul_src = scratch;
  scratch += aligned(matmul_src_bytes(tokens));
  b.matmul_scratchpad = scratch;
  return b;
}

void BertCpuModel::forward(const PackedBatch& batch, std::byte* scratch, float* out,
                           ForwardOutput output) const {
  const std::size_t sequences = batch.sequences();
  if (sequences == 0) return;
  std::size_t longest = 0;
  for (std::size_t s = 0; s < sequences; ++s) {
    longest = std::max(longest, batch.offsets[s + 1] - batch.offsets[s]);
  }
  const Buffers buffers = plan(scratch, batch.tokens(), longest);
  const OmpThreadsGuard threads(threads_);
  run_bert_forward(Forward(*this, batch, buffers, out, output), layers_, buffers.activations);
}

}  // namespace nowrec::encoder

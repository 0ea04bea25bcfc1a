// BertCudaModel: weight upload, the forward pass as a sequence of launches on one stream, and
// the CUDA graphs that replay it for small batches. Host code only.
#include "cuda/bert_cuda_model.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "cuda/activation.cuh"
#include "cuda/attention.cuh"
#include "cuda/layer_norm.cuh"
#include "cuda/pooling.cuh"
#include "encoder/bert_weights.hpp"
#include "encoder/half_conversion.hpp"

namespace nowrec::cuda {
namespace {

// cuBLASLt picks faster kernels with room for split-K partials; 32 MiB is its documented
// recommendation for Hopper.
constexpr std::size_t kGemmWorkspaceBytes = 32u << 20;
constexpr std::size_t kWeightAlignment = 256;

// Host image of every device weight, built tensor by tensor, then copied in one transfer.
class WeightImage {
 public:
  explicit WeightImage(HalfType type) : type_(type) {}

  // Returns the tensor's byte offset in the image.
  std::size_t add_half(const std::vector<float>& values, const std::string& name) {
    const auto bits = encoder::to_half_bits(
        values, type_ == HalfType::F16 ? encoder::HalfKind::F16 : encoder::HalfKind::BF16,
        name.c_str());
    return add_bytes(bits.data(), bits.size() * sizeof(bits[0]));
  }
  std::size_t add_float(const std::vector<float>& values) {
    return add_bytes(values.data(), values.size() * sizeof(float));
  }
  const std::vector<std::byte>& bytes() const noexcept { return bytes_; }

 private:
  std::size_t add_bytes(const void* data, std::size_t size) {
    const std::size_t offset =
        (bytes_.size() + kWeightAlignment - 1) / kWeightAlignment * kWeightAlignment;
    bytes_.resize(offset + size);
    std::memcpy(bytes_.data() + offset, data, size);
    return offset;
  }

  HalfType type_;
  std::vector<std::byte> bytes_;
};

}  // namespace

BertCudaModel::BertCudaModel(const ModelFolder& model, HalfType type,
                             const encoder::GpuBatchLimits& limits)
    : type_(type), limits_(limits), config_(encoder::read_bert_config(model)) {
  const std::string config_label = (model.path() / "config.json").string();
  if (!attention_supports_head_dim(static_cast<int>(config_.head_dim))) {
    throw Error(ErrorCode::Unsupported,
                config_label + ": hidden_size " + std::to_string(config_.hidden) + " over " +
                    std::to_string(config_.heads) +
                    " heads; the CUDA encoder runs head sizes 32 and 64 only");
  }
  // The longest sequence must fit one forward pass, with room for positions past the offset.
  limits_.max_tokens = std::max(limits_.max_tokens, model.max_sequence_length());

  upload_weights(model);
  plan_ = encoder::plan_gpu_arena({config_.hidden, config_.intermediate, 2}, limits_,
                                  kGemmWorkspaceBytes);
  arena_ = DeviceMemory(plan_.total_bytes, "cudaMalloc(encoder arena)");
  staging_inputs_ = PinnedMemory(plan_.inputs_bytes, "cudaMallocHost(encoder inputs)");
  for (PinnedMemory& staging : staging_output_) {
    staging = PinnedMemory(limits_.max_tokens * config_.hidden * sizeof(float),
                           "cudaMallocHost(encoder output)");
  }
  check(cudaEventCreateWithFlags(&inputs_copied_, cudaEventDisableTiming), "cudaEventCreate");
  for (cudaEvent_t& event : output_copied_) {
    check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreate");
  }
  gemm_ = std::make_unique<Gemm>(type_, arena_.data() + plan_.gemm_workspace,
                                 plan_.gemm_workspace_bytes);
  check(cudaStreamCreateWithFlags(&capture_stream_, cudaStreamNonBlocking),
        "cudaStreamCreateWithFlags(capture stream)");
}

BertCudaModel::~BertCudaModel() {
  for (cudaEvent_t event : {inputs_copied_, output_copied_[0], output_copied_[1]}) {
    if (event != nullptr) cudaEventDestroy(event);
  }
  for (auto& [shape, exec] : graphs_) cudaGraphExecDestroy(exec);
  if (capture_stream_ != nullptr) cudaStreamDestroy(capture_stream_);
}

void BertCudaModel::upload_weights(const ModelFolder& model) {
  encoder::BertWeights host = encoder::read_bert_weights(model);
  WeightImage image(type_);
  const std::size_t word =
      image.add_half(host.word_embeddings, "embeddings.word_embeddings.weight");
  const std::size_t position =
      image.add_half(host.position_embeddings, "embeddings.position_embeddings.weight");
  const std::size_t token_type =
      image.add_half(host.token_type_embeddings, "embeddings.token_type_embeddings.weight");
  const std::size_t gamma = image.add_float(host.embedding_norm.gamma);
  const std::size_t beta = image.add_float(host.embedding_norm.beta);

  struct LinearOffsets {
    std::size_t weight, bias;
    int out, in;
  };
  struct LayerOffsets {
    LinearOffsets qkv, attention_output, intermediate, output;
    std::size_t attention_gamma, attention_beta, output_gamma, output_beta;
  };
  std::vector<LayerOffsets> offsets;
  for (std::size_t index = 0; index < host.layers.size(); ++index) {
    encoder::LayerWeights& w = host.layers[index];
    const std::string base = "encoder.layer." + std::to_string(index) + ".";
    auto linear = [&](const encoder::LinearWeights& l, const std::string& name) {
      return LinearOffsets{image.add_half(l.weight, base + name + ".weight"),
                           image.add_half(l.bias, base + name + ".bias"), static_cast<int>(l.out),
                           static_cast<int>(l.in)};
    };
    LayerOffsets o{};
    o.qkv = linear(w.qkv, "attention.self.{query,key,value}");
    o.attention_output = linear(w.attention_output, "attention.output.dense");
    o.intermediate = linear(w.intermediate, "intermediate.dense");
    o.output = linear(w.output, "output.dense");
    o.attention_gamma = image.add_float(w.attention_norm.gamma);
    o.attention_beta = image.add_float(w.attention_norm.beta);
    o.output_gamma = image.add_float(w.output_norm.gamma);
    o.output_beta = image.add_float(w.output_norm.beta);
    offsets.push_back(o);
    w = encoder::LayerWeights{};  // keep the host's peak memory near one copy
  }

  weights_ = DeviceMemory(image.bytes().size(), "cudaMalloc(encoder weights)");
  check(cudaMemcpy(weights_.data(), image.bytes().data(), image.bytes().size(),
                   cudaMemcpyHostToDevice),
        "cudaMemcpy(encoder weights)");
  std::byte* base = weights_.data();
  auto at_float = [base](std::size_t offset) {
    return reinterpret_cast<const float*>(base + offset);
  };
  word_embeddings_ = base + word;
  position_embeddings_ = base + position;
  token_type_embeddings_ = base + token_type;
  embedding_norm_ = DeviceNorm{at_float(gamma), at_float(beta)};
  auto device_linear = [base](const LinearOffsets& l) {
    return DeviceLinear{base + l.weight, base + l.bias, l.out, l.in};
  };
  for (const LayerOffsets& o : offsets) {
    layers_.push_back(Layer{device_linear(o.qkv), device_linear(o.attention_output),
                            DeviceNorm{at_float(o.attention_gamma), at_float(o.attention_beta)},
                            device_linear(o.intermediate), device_linear(o.output),
                            DeviceNorm{at_float(o.output_gamma), at_float(o.output_beta)}});
  }
}

// run_bert_forward's operations for one shape: kernel and cuBLASLt launches on one stream, over
// the arena's regions. Nothing synchronises, so a graph can capture it.
class BertCudaModel::Forward {
 public:
  Forward(BertCudaModel& model, const Launch& launch, cudaStream_t stream)
      : m_(model),
        launch_(launch),
        shape_(launch.shape),
        layout_(encoder::gpu_input_layout(launch.shape)),
        inputs_(model.arena_.data() + model.plan_.inputs),
        stream_(stream),
        tokens_(static_cast<int>(launch.shape.tokens)),
        hidden_(static_cast<int>(model.config_.hidden)) {}

  void embed(void* x) const {
    const encoder::BertConfig& c = m_.config_;
    // A batch of vectors brings its own rows in place of the word embeddings.
    const float* vectors = shape_.vector_width > 0 ? input<float>(layout_.vectors) : nullptr;
    embedding_layer_norm(
        m_.type_, input<std::int32_t>(layout_.ids), vectors, input<std::int32_t>(layout_.positions),
        tokens_, m_.word_embeddings_, m_.position_embeddings_, m_.token_type_embeddings_,
        m_.embedding_norm_.gamma, m_.embedding_norm_.beta, c.norm_eps, hidden_, x, stream_);
  }

  void linear(const DeviceLinear& w, const void* in, void* out) const {
    m_.gemm_->run(w, Epilogue::Bias, in, tokens_, out, stream_);
  }

  void attention(const void* qkv, void* context) const {
    cuda::attention(m_.type_, qkv, input<encoder::AttentionTile>(layout_.tiles),
                    static_cast<int>(shape_.tiles), static_cast<int>(m_.config_.heads),
                    static_cast<int>(m_.config_.head_dim), launch_.causal, context, stream_);
  }

  void linear_gelu(const DeviceLinear& w, const void* in, void* out) const {
    if (m_.config_.tanh_gelu) {
      m_.gemm_->run(w, Epilogue::GeluTanhBias, in, tokens_, out, stream_);
    } else {
      // cuBLASLt's GELU epilogue is the tanh form only.
      m_.gemm_->run(w, Epilogue::None, in, tokens_, out, stream_);
      bias_gelu_erf(m_.type_, out, w.bias, tokens_, w.out, stream_);
    }
  }

  void linear_residual_norm(const DeviceLinear& w, const DeviceNorm& norm, const void* in,
                            void* projected, void* x) const {
    m_.gemm_->run(w, Epilogue::Bias, in, tokens_, projected, stream_);
    bias_residual_layer_norm(m_.type_, projected, nullptr, x, norm.gamma, norm.beta,
                             m_.config_.norm_eps, tokens_, hidden_, stream_);
  }

  void finish(const void* x) const {
    auto* out = reinterpret_cast<float*>(m_.arena_.data() + m_.plan_.output);
    if (launch_.output == encoder::ForwardOutput::Tokens) {
      token_states(m_.type_, x, tokens_, hidden_, out, stream_);
    } else {
      pool(m_.type_, x, input<std::int32_t>(layout_.sequence_offsets),
           static_cast<int>(shape_.sequences), hidden_, m_.config_.pooling.mode,
           m_.config_.pooling.normalize, out, stream_);
    }
  }

 private:
  template <typename T>
  const T* input(std::size_t offset) const {
    return reinterpret_cast<const T*>(inputs_ + offset);
  }

  BertCudaModel& m_;
  const Launch& launch_;
  const encoder::ForwardShape& shape_;
  encoder::GpuInputLayout layout_;
  const std::byte* inputs_;
  cudaStream_t stream_;
  int tokens_, hidden_;
};

void BertCudaModel::enqueue_forward(const Launch& launch, cudaStream_t stream) {
  std::byte* arena = arena_.data();
  const encoder::BertActivations<void*> activations{arena + plan_.hidden_states, arena + plan_.qkv,
                                                    arena + plan_.context, arena + plan_.projected,
                                                    arena + plan_.inner};
  encoder::run_bert_forward(Forward(*this, launch, stream), layers_, activations);
}

void BertCudaModel::capture_graph(const Launch& launch) {
  // Thread-local capture: other threads' CUDA calls (the caller's own work) stay legal.
  check(cudaStreamBeginCapture(capture_stream_, cudaStreamCaptureModeThreadLocal),
        "cudaStreamBeginCapture");
  cudaGraph_t graph = nullptr;
  try {
    enqueue_forward(launch, capture_stream_);
  } catch (...) {
    cudaStreamEndCapture(capture_stream_, &graph);
    if (graph != nullptr) cudaGraphDestroy(graph);
    throw;
  }
  check(cudaStreamEndCapture(capture_stream_, &graph), "cudaStreamEndCapture");
  cudaGraphExec_t exec = nullptr;
  const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  check(status, "cudaGraphInstantiate");
  graphs_.emplace(launch, exec);
}

void BertCudaModel::encode_chunk(const encoder::PackedSequences& batch, std::size_t first,
                                 std::size_t end, bool causal, encoder::ForwardOutput output,
                                 float* out, cudaStream_t stream) {
  if (first == end) return;
  const std::size_t tokens = batch.offsets[end] - batch.offsets[first];
  Launch launch{{}, causal, output};
  const bool use_graph = encoder::choose_graph_bucket(tokens, end - first, limits_, launch.shape);
  if (!use_graph) {
    lengths_.clear();
    for (std::size_t s = first; s < end; ++s) lengths_.push_back(batch.length(s));
    launch.shape = encoder::exact_shape(lengths_);
  }
  launch.shape.vector_width = batch.from_vectors ? config_.hidden : 0;
  encoder::pack_gpu_inputs(batch, first, end, launch.shape, config_.position_offset, packed_);
  const encoder::GpuInputLayout layout = encoder::gpu_input_layout(launch.shape);
  // The previous chunk's input copy must have left the pinned buffer; its kernels may still run
  // (this copy is queued behind them, so they never see the new inputs).
  check(cudaEventSynchronize(inputs_copied_), "cudaEventSynchronize(encoder inputs)");
  encoder::write_gpu_inputs(packed_, layout, staging_inputs_.data());
  check(cudaMemcpyAsync(arena_.data() + plan_.inputs, staging_inputs_.data(), layout.bytes,
                        cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync(encoder inputs)");
  check(cudaEventRecord(inputs_copied_, stream), "cudaEventRecord(encoder inputs)");
  const auto found = use_graph ? graphs_.find(launch) : graphs_.end();
  if (found != graphs_.end()) {
    check(cudaGraphLaunch(found->second, stream), "cudaGraphLaunch");
  } else {
    enqueue_forward(launch, stream);
    // A bucket's first batch runs eagerly, which also loads every kernel and cuBLASLt module
    // it needs; capturing afterwards records launches only and runs nothing.
    if (use_graph) {
      try {
        capture_graph(launch);
      } catch (...) {
        // The eager pass still reads the pinned inputs: let it finish before they are reused.
        abandon(stream);
        throw;
      }
    }
  }
  const std::size_t rows = output == encoder::ForwardOutput::Tokens ? tokens : end - first;
  const PendingOutput queued{out, rows * config_.hidden * sizeof(float), next_slot_};
  next_slot_ ^= 1;
  check(cudaMemcpyAsync(staging_output_[queued.slot].data(), arena_.data() + plan_.output,
                        queued.bytes, cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync(encoder output)");
  check(cudaEventRecord(output_copied_[queued.slot], stream), "cudaEventRecord(encoder output)");
  // The GPU now has this chunk queued: hand over the one before.
  if (pending_) complete(*pending_);
  pending_ = queued;
}

void BertCudaModel::complete(const PendingOutput& pending) {
  check(cudaEventSynchronize(output_copied_[pending.slot]), "cudaEventSynchronize(encoder output)");
  if (pending.bytes > 0)
    std::memcpy(pending.out, staging_output_[pending.slot].data(), pending.bytes);
}

void BertCudaModel::finish() {
  if (!pending_) return;
  const PendingOutput last = *pending_;
  pending_.reset();
  complete(last);
}

void BertCudaModel::abandon(cudaStream_t stream) noexcept {
  pending_.reset();
  cudaStreamSynchronize(stream);
}

}  // namespace nowrec::cuda

// OnednnMatmul over oneDNN's v2 API (matmul::desc -> primitive_desc -> primitive).
#include "encoder/onednn_matmul.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <string>

#include "nowrec/error.hpp"

namespace nowrec::encoder {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr memory::data_type kF32 = memory::data_type::f32;

// Engines are thread-safe and costly to create; every matmul shares one.
const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::dim dim(std::size_t n) { return static_cast<memory::dim>(n); }

}  // namespace

struct OnednnMatmul::State {
  std::size_t in = 0, out = 0;
  dnnl::matmul::primitive_desc desc;
  dnnl::matmul primitive;
  memory weights;
  memory bias;  // empty when the layer adds its bias elsewhere
};

OnednnMatmul::OnednnMatmul(const float* weight, const float* bias, std::size_t out_features,
                           std::size_t in_features)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.in = in_features;
  s.out = out_features;
  const memory::dim k = dim(in_features), n = dim(out_features);
  try {
    const memory::desc src_md({DNNL_RUNTIME_DIM_VAL, k}, kF32, Tag::ab);
    const memory::desc dst_md({DNNL_RUNTIME_DIM_VAL, n}, kF32, Tag::ab);
    // For small M the transposed (PyTorch) layout is several times slower, so oneDNN picks.
    const memory::desc weights_md({k, n}, kF32, Tag::any);
    const memory::desc bias_md({1, n}, kF32, Tag::ab);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const auto op = bias != nullptr ? dnnl::matmul::desc(src_md, weights_md, bias_md, dst_md)
                                    : dnnl::matmul::desc(src_md, weights_md, dst_md);
    s.desc = dnnl::matmul::primitive_desc(op, attr, cpu_engine());
    s.primitive = dnnl::matmul(s.desc);

    // [N][K] row-major is the [K][N] matrix in "ba" order.
    s.weights = memory(s.desc.weights_desc(), cpu_engine());
    memory source({{k, n}, kF32, Tag::ba}, cpu_engine(), const_cast<float*>(weight));
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(source, s.weights).execute(stream, source, s.weights);
    stream.wait();
    if (bias != nullptr) {
      s.bias = memory(bias_md, cpu_engine());
      auto* bias_copy = static_cast<float*>(s.bias.get_data_handle());
      for (std::size_t i = 0; i < out_features; ++i) bias_copy[i] = bias[i];
    }
  } catch (const dnnl::error& error) {
    throw Error(ErrorCode::Internal, "oneDNN refused a " + std::to_string(out_features) + "x" +
                                         std::to_string(in_features) +
                                         " f32 matmul: " + error.what());
  }
}

OnednnMatmul::OnednnMatmul(OnednnMatmul&&) noexcept = default;
OnednnMatmul& OnednnMatmul::operator=(OnednnMatmul&&) noexcept = default;
OnednnMatmul::~OnednnMatmul() = default;

std::size_t OnednnMatmul::in_features() const noexcept { return state_->in; }
std::size_t OnednnMatmul::out_features() const noexcept { return state_->out; }
std::size_t OnednnMatmul::scratchpad_bytes() const noexcept {
  return state_->desc.scratchpad_desc().get_size();
}

void OnednnMatmul::run(const float* src, std::size_t rows, float* dst, void* scratchpad) const {
  const State& s = *state_;
  if (rows == 0) return;
  try {
    const dnnl::engine& engine = cpu_engine();
    // A stream must not be shared between threads; one per thread is created once.
    thread_local const dnnl::stream stream(engine);
    const memory src_mem({{dim(rows), dim(s.in)}, kF32, Tag::ab}, engine, const_cast<float*>(src));
    const memory dst_mem({{dim(rows), dim(s.out)}, kF32, Tag::ab}, engine, dst);
    const memory scratch_mem(s.desc.scratchpad_desc(), engine, scratchpad);
    // The C call takes the arguments as an array, where the C++ one wants an unordered_map.
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src_mem.get()},
                               {DNNL_ARG_WEIGHTS, s.weights.get()},
                               {DNNL_ARG_DST, dst_mem.get()},
                               {DNNL_ARG_SCRATCHPAD, scratch_mem.get()},
                               {DNNL_ARG_BIAS, s.bias ? s.bias.get() : nullptr}};
    const int count = s.bias ? 5 : 4;
    dnnl::error::wrap_c_api(dnnl_primitive_execute(s.primitive.get(), stream.get(), count, args),
                            "could not execute a matmul");
    dnnl::error::wrap_c_api(dnnl_stream_wait(stream.get()), "could not wait on a stream");
  } catch (const dnnl::error& error) {
    throw Error(ErrorCode::Internal,
                "oneDNN matmul of " + std::to_string(rows) + " rows failed: " + error.what());
  }
}

}  // namespace nowrec::encoder

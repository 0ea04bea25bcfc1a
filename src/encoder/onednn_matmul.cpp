// OnednnMatmul over oneDNN's v2 API (matmul::desc -> primitive_desc -> primitive).
#include "encoder/onednn_matmul.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/dispatch.hpp"
#include "encoder/bf16.hpp"
#include "nowrec/error.hpp"

namespace nowrec::encoder {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr memory::data_type kF32 = memory::data_type::f32;
constexpr memory::data_type kBF16 = memory::data_type::bf16;

// Engines are thread-safe and costly to create; every matmul shares one.
const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

memory::dim dim(std::size_t n) { return static_cast<memory::dim>(n); }

// Converting src is memory-bound; below this many elements a thread team costs more than it saves.
constexpr std::size_t kMinParallelConversion = 1 << 15;

// Executing a primitive must finish before execute() returns: run() reuses one scratchpad for
// the blocks of a call, and their memory objects die before the stream is waited on.
static_assert(DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP || DNNL_CPU_RUNTIME == DNNL_RUNTIME_SEQ,
              "OnednnMatmul needs oneDNN's synchronous CPU runtime (OpenMP or sequential)");

// Row counts with a primitive of their own: powers of two from 1 to kLargestBucket. oneDNN's
// fast kernels (brgemm, with AMX tiles for bf16) need a fixed row count; with a run-time one it
// falls back to its generic gemm, 2-4 times slower on the encoder's shapes.
constexpr memory::dim kLargestBucket = 512;
static_assert((kLargestBucket & (kLargestBucket - 1)) == 0);

// rows: a fixed count, or DNNL_RUNTIME_DIM_VAL. weights_md: Tag::any lets oneDNN pick the layout.
dnnl::matmul::primitive_desc describe(memory::data_type type, memory::dim rows, memory::dim k,
                                      memory::dim n, bool with_bias,
                                      const memory::desc& weights_md) {
  const memory::desc src_md({rows, k}, type, Tag::ab);
  const memory::desc dst_md({rows, n}, kF32, Tag::ab);
  const memory::desc bias_md({1, n}, kF32, Tag::ab);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const auto op = with_bias ? dnnl::matmul::desc(src_md, weights_md, bias_md, dst_md)
                            : dnnl::matmul::desc(src_md, weights_md, dst_md);
  return dnnl::matmul::primitive_desc(op, attr, cpu_engine());
}

// The largest bucket, with the weight layout oneDNN prefers for it (for small M the PyTorch
// layout is several times slower); every other bucket is made for the same layout.
dnnl::matmul::primitive_desc describe(memory::data_type type, memory::dim k, memory::dim n,
                                      bool with_bias) {
  return describe(type, kLargestBucket, k, n, with_bias, memory::desc({k, n}, type, Tag::any));
}

bool is_reference(const dnnl::matmul::primitive_desc& desc) {
  return std::string(desc.impl_info_str()).find("ref") != std::string::npos;
}

// oneDNN 2.6 refuses bf16 on CPUs without AVX-512, emulates it on AVX-512 cores without
// AVX512_BF16 (at 0.4 times the fp32 rate, measured), and may offer only its reference kernel; in
// each case the fp32 fallback is the better matmul. The effective ISA honours DNNL_MAX_CPU_ISA.
bool describe_bf16(memory::dim k, memory::dim n, bool with_bias,
                   dnnl::matmul::primitive_desc& desc) {
  const auto native = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  if ((static_cast<unsigned>(dnnl::get_effective_cpu_isa()) & native) != native) return false;
  try {
    desc = describe(kBF16, k, n, with_bias);
  } catch (const dnnl::error&) {
    return false;
  }
  return !is_reference(desc);
}

}  // namespace

const char* matmul_precision_name(MatmulPrecision precision) noexcept {
  switch (precision) {
    case MatmulPrecision::F32:
      return "f32";
    case MatmulPrecision::BF16:
      return "bf16";
    case MatmulPrecision::BF16RoundedWeights:
      return "bf16 weights, f32 compute";
  }
  return "unknown";
}

struct OnednnMatmul::State {
  // A primitive for exactly `rows` rows, or (rows 0) for any row count.
  struct Bucket {
    memory::dim rows = 0;
    dnnl::matmul::primitive_desc desc;
    dnnl::matmul primitive;
  };

  // Makes the buckets for desc's weight layout; false (and none made) when oneDNN would run any
  // of them on its reference kernel.
  bool make_buckets(memory::dim k, memory::dim n, bool with_bias) {
    const memory::data_type type = desc.src_desc().data_type();
    std::vector<Bucket> made;
    for (memory::dim rows = kLargestBucket; rows >= 1; rows /= 2) {
      Bucket bucket;
      bucket.rows = rows;
      bucket.desc = rows == kLargestBucket
                        ? desc
                        : describe(type, rows, k, n, with_bias, desc.weights_desc());
      if (is_reference(bucket.desc)) return false;
      made.push_back(std::move(bucket));
    }
    buckets = std::move(made);
    return true;
  }

  // Where fixed row counts get no fast kernel: one primitive for every row count.
  void make_runtime_primitive(memory::dim k, memory::dim n, bool with_bias) {
    const memory::data_type type = desc.src_desc().data_type();
    desc =
        describe(type, DNNL_RUNTIME_DIM_VAL, k, n, with_bias, memory::desc({k, n}, type, Tag::any));
    buckets.assign(1, Bucket{0, desc, {}});
  }

  // The bucket of exactly `rows` rows (a power of two up to kLargestBucket).
  const Bucket& bucket(std::size_t rows) const {
    std::size_t index = 0;
    for (auto size = static_cast<std::size_t>(kLargestBucket); size > rows; size /= 2) ++index;
    return buckets[index];
  }

  std::size_t in = 0, out = 0;
  MatmulPrecision precision = MatmulPrecision::F32;
  dnnl::matmul::primitive_desc desc;  // the largest bucket's, whose weight layout all share
  std::vector<Bucket> buckets;        // kLargestBucket rows down to 1, halving
  memory weights;
  memory bias;  // empty when the layer adds its bias elsewhere
  std::size_t scratchpad_bytes = 0;
};

OnednnMatmul::OnednnMatmul(const float* weight, const float* bias, std::size_t out_features,
                           std::size_t in_features, MatmulPrecision precision)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.in = in_features;
  s.out = out_features;
  const memory::dim k = dim(in_features), n = dim(out_features);
  const bool with_bias = bias != nullptr;
  try {
    std::vector<float> rounded;
    const bool bf16 = precision == MatmulPrecision::BF16 &&
                      describe_bf16(k, n, with_bias, s.desc) && s.make_buckets(k, n, with_bias);
    if (bf16) {
      s.precision = MatmulPrecision::BF16;
    } else {
      s.precision = precision == MatmulPrecision::F32 ? MatmulPrecision::F32
                                                      : MatmulPrecision::BF16RoundedWeights;
      s.desc = describe(kF32, k, n, with_bias);
      if (!s.make_buckets(k, n, with_bias)) s.make_runtime_primitive(k, n, with_bias);
      if (s.precision == MatmulPrecision::BF16RoundedWeights) {
        rounded.resize(in_features * out_features);
        for (std::size_t i = 0; i < rounded.size(); ++i) rounded[i] = round_to_bf16(weight[i]);
        weight = rounded.data();
      }
    }
    for (State::Bucket& bucket : s.buckets) {
      bucket.primitive = dnnl::matmul(bucket.desc);
      s.scratchpad_bytes = std::max(s.scratchpad_bytes, bucket.desc.scratchpad_desc().get_size());
    }

    // [N][K] row-major is the [K][N] matrix in "ba" order; the reorder also converts to bf16.
    s.weights = memory(s.desc.weights_desc(), cpu_engine());
    memory source({{k, n}, kF32, Tag::ba}, cpu_engine(), const_cast<float*>(weight));
    dnnl::stream stream(cpu_engine());
    dnnl::reorder(source, s.weights).execute(stream, source, s.weights);
    stream.wait();
    if (with_bias) {
      s.bias = memory({{1, n}, kF32, Tag::ab}, cpu_engine());
      std::memcpy(s.bias.get_data_handle(), bias, out_features * sizeof(float));
    }
  } catch (const dnnl::error& error) {
    throw Error(ErrorCode::Internal, "oneDNN refused a " + std::to_string(out_features) + "x" +
                                         std::to_string(in_features) + " " +
                                         matmul_precision_name(precision) +
                                         " matmul: " + error.what());
  }
}

OnednnMatmul::OnednnMatmul(OnednnMatmul&&) noexcept = default;
OnednnMatmul& OnednnMatmul::operator=(OnednnMatmul&&) noexcept = default;
OnednnMatmul::~OnednnMatmul() = default;

std::size_t OnednnMatmul::in_features() const noexcept { return state_->in; }
std::size_t OnednnMatmul::out_features() const noexcept { return state_->out; }
MatmulPrecision OnednnMatmul::precision() const noexcept { return state_->precision; }
std::size_t OnednnMatmul::scratchpad_bytes() const noexcept { return state_->scratchpad_bytes; }
std::size_t OnednnMatmul::src_buffer_bytes(std::size_t rows) const noexcept {
  return state_->precision == MatmulPrecision::BF16 ? rows * state_->in * sizeof(std::uint16_t) : 0;
}

void OnednnMatmul::run(const float* src, std::size_t rows, float* dst, void* scratchpad,
                       void* src_buffer) const {
  const State& s = *state_;
  if (rows == 0) return;
  const bool bf16 = s.precision == MatmulPrecision::BF16;
  void* src_data = const_cast<float*>(src);
  if (bf16) {
    if (src_buffer == nullptr) {
      throw Error(ErrorCode::Internal, "OnednnMatmul::run: a bf16 matmul needs a src buffer");
    }
    auto* converted = static_cast<std::uint16_t*>(src_buffer);
    const std::int64_t count = static_cast<std::int64_t>(rows);
    const std::size_t in = s.in;
    // The per-ISA rounding kernel (round to nearest even, as float_to_bf16 for finite values):
    // the scalar loop took 15% of a bf16 forward pass of 64 x 128 tokens.
    const auto narrow = cpu::kernels().assign_bf16;
#pragma omp parallel for schedule(static) if (rows * in >= kMinParallelConversion)
    for (std::int64_t r = 0; r < count; ++r) narrow(1.0f, src + r * in, converted + r * in, in);
    src_data = converted;
  }
  try {
    const dnnl::engine& engine = cpu_engine();
    // A stream must not be shared between threads; one per thread is created once.
    thread_local const dnnl::stream stream(engine);
    const std::size_t src_row_bytes = s.in * (bf16 ? sizeof(std::uint16_t) : sizeof(float));
    // Rows [first, first + count) through `bucket` (count == its rows, or any for rows 0).
    auto run_block = [&](const State::Bucket& bucket, std::size_t first, std::size_t count) {
      const memory::desc src_md({dim(count), dim(s.in)}, bf16 ? kBF16 : kF32, Tag::ab);
      const memory::desc dst_md({dim(count), dim(s.out)}, kF32, Tag::ab);
      const memory src_mem(src_md, engine,
                           static_cast<std::byte*>(src_data) + first * src_row_bytes);
      const memory dst_mem(dst_md, engine, dst + first * s.out);
      const memory scratch_mem(bucket.desc.scratchpad_desc(), engine, scratchpad);
      // The C call takes the arguments as an array, where the C++ one wants an unordered_map.
      dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, src_mem.get()},
                                 {DNNL_ARG_WEIGHTS, s.weights.get()},
                                 {DNNL_ARG_DST, dst_mem.get()},
                                 {DNNL_ARG_SCRATCHPAD, scratch_mem.get()},
                                 {DNNL_ARG_BIAS, s.bias ? s.bias.get() : nullptr}};
      const int count_args = s.bias ? 5 : 4;
      dnnl::error::wrap_c_api(
          dnnl_primitive_execute(bucket.primitive.get(), stream.get(), count_args, args),
          ("could not execute a matmul of " + std::to_string(count) + " rows").c_str());
    };
    if (s.buckets.front().rows == 0) {
      run_block(s.buckets.front(), 0, rows);
    } else {
      // kLargestBucket-row blocks; then the largest power of two p in the rest; then what is
      // left, r < p, either exactly (r a power of two) or as the smallest power of two q >= r
      // over the last q rows, recomputing up to r rows of p's block. At most two calls after
      // the full blocks, where the binary digits of the rest could take nine.
      const auto largest = static_cast<std::size_t>(kLargestBucket);
      std::size_t done = 0;
      for (; rows - done >= largest; done += largest) run_block(s.buckets.front(), done, largest);
      if (done < rows) {
        const std::size_t p = std::bit_floor(rows - done);
        run_block(s.bucket(p), done, p);
        done += p;
      }
      if (done < rows) {
        const std::size_t q = std::bit_ceil(rows - done);
        run_block(s.bucket(q), rows - q, q);
      }
    }
    dnnl::error::wrap_c_api(dnnl_stream_wait(stream.get()), "could not wait on a stream");
  } catch (const dnnl::error& error) {
    throw Error(ErrorCode::Internal,
                "oneDNN matmul of " + std::to_string(rows) + " rows failed: " + error.what());
  }
}

}  // namespace nowrec::encoder

// oneDNN alone on the encoder's matmul shapes: the ceiling for the encoders' achieved GFLOP/s.
// For each row count M (the tokens of one call) it times the four matmuls of one
// all-MiniLM-L6-v2 layer ([M x 384]·[384 x 1152], ·[384 x 384], ·[384 x 1536], [M x 1536]·[1536 x
// 384]) in fp32 and bf16 (fp32 dst), each with a fixed M and oneDNN's preferred weight layout,
// and prints the best time of --repeat and the resulting GFLOP/s as JSON. Usage:
//   onednn_matmul_bench [--tokens 16,416,8192] [--threads T] [--repeat N] [--hidden 384]
//                       [--inner 1536]
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

struct Shape {
  memory::dim k, n;
};

std::vector<memory::dim> parse_list(const std::string& value) {
  std::vector<memory::dim> out;
  for (std::size_t pos = 0; pos < value.size();) {
    const std::size_t comma = value.find(',', pos);
    out.push_back(std::max(1, std::atoi(value.substr(pos, comma - pos).c_str())));
    pos = comma == std::string::npos ? value.size() : comma + 1;
  }
  return out;
}

// One matmul, prepared as an application that knows M would prepare it: weights reordered once
// into the layout the primitive asks for, then only the primitive's execution is timed.
struct Prepared {
  dnnl::matmul primitive;
  memory src, weights, dst;
};

Prepared prepare(const dnnl::engine& engine, dnnl::stream& stream, memory::data_type type,
                 memory::dim m, Shape shape) {
  const memory::desc src_md({m, shape.k}, type, Tag::ab);
  const memory::desc weights_any({shape.k, shape.n}, type, Tag::any);
  const memory::desc dst_md({m, shape.n}, memory::data_type::f32, Tag::ab);
  const dnnl::matmul::primitive_desc desc(dnnl::matmul::desc(src_md, weights_any, dst_md),
                                          engine);
  Prepared p{dnnl::matmul(desc), memory(src_md, engine), memory(desc.weights_desc(), engine),
             memory(dst_md, engine)};
  // Small values in every buffer so that no denormals or NaNs distort the timing.
  const memory::desc plain_f32({shape.k, shape.n}, memory::data_type::f32, Tag::ab);
  memory plain(plain_f32, engine);
  std::fill_n(static_cast<float*>(plain.get_data_handle()), shape.k * shape.n, 0.01f);
  dnnl::reorder(plain, p.weights).execute(stream, plain, p.weights);
  memory src_f32({{m, shape.k}, memory::data_type::f32, Tag::ab}, engine);
  std::fill_n(static_cast<float*>(src_f32.get_data_handle()), m * shape.k, 0.5f);
  dnnl::reorder(src_f32, p.src).execute(stream, src_f32, p.src);
  stream.wait();
  return p;
}

}  // namespace

int main(int argc, char** argv) try {
  std::vector<memory::dim> tokens{16, 416, 8192};
  int threads = 1, repeat = 5;
  memory::dim hidden = 384, inner = 1536;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--tokens") {
      tokens = parse_list(value);
    } else if (flag == "--threads") {
      threads = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--repeat") {
      repeat = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--hidden") {
      hidden = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--inner") {
      inner = std::max(1, std::atoi(value.c_str()));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  omp_set_num_threads(threads);
  const std::vector<Shape> shapes{{hidden, 3 * hidden}, {hidden, hidden}, {hidden, inner},
                                  {inner, hidden}};
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);

  nlohmann::json report{{"implementation", "oneDNN matmul"},
                        {"onednn", std::to_string(dnnl_version()->major) + "." +
                                       std::to_string(dnnl_version()->minor) + "." +
                                       std::to_string(dnnl_version()->patch)},
                        {"threads", threads},
                        {"runs", nlohmann::json::array()}};
  for (const auto type : {memory::data_type::f32, memory::data_type::bf16}) {
    const char* name = type == memory::data_type::f32 ? "f32" : "bf16";
    for (const memory::dim m : tokens) {
      std::vector<Prepared> layer;
      try {
        for (const Shape& shape : shapes) layer.push_back(prepare(engine, stream, type, m, shape));
      } catch (const dnnl::error& error) {
        report["runs"].push_back({{"dtype", name}, {"tokens", m}, {"error", error.what()}});
        continue;
      }
      // Repeat the layer until a timed sample lasts long enough to be read reliably.
      const int inner_reps = static_cast<int>(std::max<memory::dim>(1, 4096 / m));
      double best = 1e300;
      for (int r = 0; r <= repeat; ++r) {  // the first pass warms caches and kernels
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < inner_reps; ++i) {
          for (Prepared& p : layer) {
            p.primitive.execute(stream, {{DNNL_ARG_SRC, p.src},
                                         {DNNL_ARG_WEIGHTS, p.weights},
                                         {DNNL_ARG_DST, p.dst}});
          }
        }
        stream.wait();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (r > 0) best = std::min(best, seconds / inner_reps);
      }
      double flops = 0;
      for (const Shape& shape : shapes) flops += 2.0 * m * shape.k * shape.n;
      std::string impl;
      {
        const memory::desc src_md({m, shapes[0].k}, type, Tag::ab);
        const memory::desc w_md({shapes[0].k, shapes[0].n}, type, Tag::any);
        const memory::desc dst_md({m, shapes[0].n}, memory::data_type::f32, Tag::ab);
        impl = dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, w_md, dst_md), engine)
                   .impl_info_str();
      }
      report["runs"].push_back({{"dtype", name},
                                {"tokens", m},
                                {"kernel", impl},
                                {"layer_seconds", best},
                                {"gflops", flops / best * 1e-9}});
    }
  }
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "onednn_matmul_bench: %s\n", error.what());
  return 1;
}

// The CUDA encoder's latency and throughput on the GPU check's three workloads, and cuBLASLt's
// own rate on the encoder's matmul shapes, printed as JSON lines for bench/gpu_check.sh.
//
// Usage: gpu_encoder_bench --model DIR --texts FILE.jsonl --latency-text TEXT
//                          [--dtype f16|bf16] [--titles 256] [--long 1024] [--long-tokens 128]
//                          [--profile-long N]
// --profile-long N: encode N long texts once to warm up, then once more between
// cudaProfilerStart and cudaProfilerStop (for `ncu --profile-from-start off`), and stop.
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_profiler_api.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nowrec/model_folder.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& why) {
  std::cerr << "gpu_encoder_bench: " << why << "\n";
  std::exit(2);
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) fail(std::string(what) + ": " + cudaGetErrorString(status));
}
void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    fail(std::string(what) + ": " + cublasLtGetStatusString(status));
}

struct Args {
  std::string model, texts, latency_text, dtype = "f16";
  std::size_t titles = 256, long_count = 1024, long_tokens = 128, profile_long = 0;
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) fail("missing value after " + flag);
    const std::string value = argv[++i];
    if (flag == "--model")
      args.model = value;
    else if (flag == "--texts")
      args.texts = value;
    else if (flag == "--latency-text")
      args.latency_text = value;
    else if (flag == "--dtype")
      args.dtype = value;
    else if (flag == "--titles")
      args.titles = std::stoul(value);
    else if (flag == "--long")
      args.long_count = std::stoul(value);
    else if (flag == "--long-tokens")
      args.long_tokens = std::stoul(value);
    else if (flag == "--profile-long")
      args.profile_long = std::stoul(value);
    else
      fail("unknown flag " + flag);
  }
  if (args.model.empty() || args.texts.empty() || args.latency_text.empty()) {
    fail(
        "usage: gpu_encoder_bench --model DIR --texts FILE.jsonl --latency-text TEXT "
        "[--dtype f16|bf16]");
  }
  if (args.dtype != "f16" && args.dtype != "bf16") fail("--dtype is f16 or bf16");
  return args;
}

void emit(const std::string& workload, const std::string& metric, double value,
          const std::string& unit, const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json line = extra;
  line["impl"] = "nowrec";
  line["workload"] = workload;
  line["metric"] = metric;
  line["value"] = value;
  line["unit"] = unit;
  std::cout << line.dump() << std::endl;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `body` at least `min_runs` times and for at least `min_seconds`; returns seconds per run.
template <typename Body>
double time_per_run(Body&& body, int min_runs, double min_seconds) {
  for (int i = 0; i < 3; ++i) body();  // warm: buckets captured, algorithms chosen
  int runs = 0;
  const auto start = Clock::now();
  while (runs < min_runs || seconds_since(start) < min_seconds) {
    body();
    ++runs;
  }
  return seconds_since(start) / runs;
}

// Fills `count` fp16 or bf16 values on the device with random values in [-1, 1) (never zeros:
// matrix units run faster on them than on real data).
void fill_random_halves(void* device, std::size_t count, cudaDataType_t type) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<std::uint16_t> host(count);
  for (auto& h : host) {
    const float v = value(rng);
    if (type == CUDA_R_16BF) {
      const __nv_bfloat16 b = __float2bfloat16_rn(v);
      std::memcpy(&h, &b, sizeof h);
    } else {
      const __half f = __float2half_rn(v);
      std::memcpy(&h, &f, sizeof h);
    }
  }
  check(cudaMemcpy(device, host.data(), count * 2, cudaMemcpyHostToDevice), "cudaMemcpy");
}

// cuBLASLt alone on y[rows][out] = x[rows][in]·wᵀ, as the encoder calls it, in TFLOP/s.
double cublaslt_tflops(cudaDataType_t type, int rows,
                       const std::vector<std::pair<int, int>>& shapes, cudaStream_t stream) {
  cublasLtHandle_t handle;
  check(cublasLtCreate(&handle), "cublasLtCreate");
  const std::size_t workspace_bytes = 32u << 20;
  void* workspace = nullptr;
  check(cudaMalloc(&workspace, workspace_bytes), "cudaMalloc");
  double flops = 0.0, seconds = 0.0;
  for (auto [out, in] : shapes) {
    void *w, *x, *y;
    check(cudaMalloc(&w, std::size_t(out) * in * 2), "cudaMalloc");
    check(cudaMalloc(&x, std::size_t(rows) * in * 2), "cudaMalloc");
    check(cudaMalloc(&y, std::size_t(rows) * out * 2), "cudaMalloc");
    fill_random_halves(w, std::size_t(out) * in, type);
    fill_random_halves(x, std::size_t(rows) * in, type);
    cublasLtMatmulDesc_t op;
    check(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "desc");
    const cublasOperation_t t = CUBLAS_OP_T;
    check(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof(t)), "transa");
    cublasLtMatrixLayout_t a, b, d;
    check(cublasLtMatrixLayoutCreate(&a, type, in, out, in), "layout");
    check(cublasLtMatrixLayoutCreate(&b, type, in, rows, in), "layout");
    check(cublasLtMatrixLayoutCreate(&d, type, out, rows, out), "layout");
    cublasLtMatmulPreference_t preference;
    check(cublasLtMatmulPreferenceCreate(&preference), "preference");
    const std::uint64_t bytes = workspace_bytes;
    check(cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                               &bytes, sizeof(bytes)),
          "preference");
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    check(cublasLtMatmulAlgoGetHeuristic(handle, op, a, b, d, d, preference, 1, &result, &found),
          "heuristic");
    if (found == 0) fail("cuBLASLt has no algorithm for a benchmark shape");
    const float one = 1.0f, zero = 0.0f;
    auto run = [&] {
      check(cublasLtMatmul(handle, op, &one, w, a, x, b, &zero, y, d, y, d, &result.algo, workspace,
                           workspace_bytes, stream),
            "cublasLtMatmul");
    };
    for (int i = 0; i < 5; ++i) run();
    cudaEvent_t begin, end;
    check(cudaEventCreate(&begin), "event");
    check(cudaEventCreate(&end), "event");
    const int reps = 50;
    check(cudaEventRecord(begin, stream), "event");
    for (int i = 0; i < reps; ++i) run();
    check(cudaEventRecord(end, stream), "event");
    check(cudaEventSynchronize(end), "event");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, begin, end), "event");
    seconds += ms / 1e3 / reps;
    flops += 2.0 * rows * out * in;
    cudaEventDestroy(begin);
    cudaEventDestroy(end);
    cublasLtMatmulPreferenceDestroy(preference);
    cublasLtMatrixLayoutDestroy(a);
    cublasLtMatrixLayoutDestroy(b);
    cublasLtMatrixLayoutDestroy(d);
    cublasLtMatmulDescDestroy(op);
    cudaFree(w);
    cudaFree(x);
    cudaFree(y);
  }
  cudaFree(workspace);
  cublasLtDestroy(handle);
  return flops / seconds / 1e12;
}

}  // namespace

int run(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::vector<std::string> corpus;
  {
    std::ifstream lines(args.texts);
    if (!lines) fail("cannot read " + args.texts);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) corpus.push_back(nlohmann::json::parse(line).get<std::string>());
    }
  }
  if (corpus.size() < args.titles) fail(args.texts + " holds fewer texts than --titles");

  const nowrec::ModelFolder folder = nowrec::ModelFolder::load(args.model);
  nowrec::EncoderOptions options;
  options.device = nowrec::Device::CUDA;
  options.dtype = args.dtype == "bf16" ? nowrec::Dtype::BF16 : nowrec::Dtype::F16;
  const auto load_start = Clock::now();
  const nowrec::SequenceEncoder encoder = nowrec::SequenceEncoder::load(folder, options);
  const double load_seconds = seconds_since(load_start);
  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  const nowrec::CudaStream on_stream{stream};
  const std::size_t dim = encoder.dim();
  const nowrec::TransformerConfig& config = folder.config();
  nlohmann::json info = {{"device", nowrec::cuda_device_description(0)},
                         {"dtype", args.dtype},
                         {"load_seconds", load_seconds}};
  std::cout << nlohmann::json{{"impl", "nowrec"}, {"info", info}}.dump() << std::endl;

  const auto long_texts = [&](std::size_t count) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<std::int32_t> id(1000, static_cast<int>(config.vocab_size) - 1);
    std::vector<std::vector<std::int32_t>> sequences(count);
    for (auto& s : sequences) {
      s.resize(args.long_tokens);
      for (auto& token : s) token = id(rng);
      s.front() = 101;  // [CLS] and [SEP] of BERT vocabularies; any id would time the same
      s.back() = 102;
    }
    return sequences;
  };
  if (args.profile_long > 0) {
    const auto sequences = long_texts(args.profile_long);
    const std::vector<std::span<const std::int32_t>> spans(sequences.begin(), sequences.end());
    std::vector<float> out(sequences.size() * dim);
    encoder.encode_ids(spans, out, on_stream);
    check(cudaProfilerStart(), "cudaProfilerStart");
    const auto start = Clock::now();
    encoder.encode_ids(spans, out, on_stream);
    check(cudaProfilerStop(), "cudaProfilerStop");
    emit("profiled_pass", "ms", seconds_since(start) * 1e3, "ms",
         {{"texts", args.profile_long}, {"tokens", args.profile_long * args.long_tokens}});
    cudaStreamDestroy(stream);
    return 0;
  }

  // (a) one text of about 16 tokens: latency, text in and ids in.
  {
    std::vector<std::int32_t> ids;
    encoder.tokenizer().encode_ids(args.latency_text, ids);
    const std::vector<std::string_view> one{args.latency_text};
    const std::vector<std::span<const std::int32_t>> one_ids{ids};
    std::vector<float> out(dim);
    std::vector<double> samples;
    for (int i = 0; i < 20; ++i) encoder.encode(one, out, on_stream);
    for (int i = 0; i < 2000; ++i) {
      const auto start = Clock::now();
      encoder.encode(one, out, on_stream);
      samples.push_back(seconds_since(start) * 1e3);
    }
    std::sort(samples.begin(), samples.end());
    const nlohmann::json extra{{"tokens", ids.size()}};
    emit("latency_16", "p50", samples[samples.size() / 2], "ms", extra);
    emit("latency_16", "p99", samples[samples.size() * 99 / 100], "ms", extra);
    samples.clear();
    for (int i = 0; i < 2000; ++i) {
      const auto start = Clock::now();
      encoder.encode_ids(one_ids, out, on_stream);
      samples.push_back(seconds_since(start) * 1e3);
    }
    std::sort(samples.begin(), samples.end());
    emit("latency_16_ids", "p50", samples[samples.size() / 2], "ms", extra);
  }

  // (b) mixed-length titles in one call: texts per second, tokenization included.
  {
    std::vector<std::string_view> titles(corpus.begin(), corpus.begin() + args.titles);
    std::vector<float> out(titles.size() * dim);
    const double seconds = time_per_run([&] { encoder.encode(titles, out, on_stream); }, 20, 1.0);
    emit("titles_256", "texts_per_s", titles.size() / seconds, "texts/s");
  }

  // (c) long texts of a fixed token count, pre-tokenized: tokens per second and TFLOP/s.
  {
    const auto sequences = long_texts(args.long_count);
    const std::vector<std::span<const std::int32_t>> spans(sequences.begin(), sequences.end());
    std::vector<float> out(sequences.size() * dim);
    const double seconds = time_per_run([&] { encoder.encode_ids(spans, out, on_stream); }, 5, 2.0);
    const double tokens = double(args.long_count) * args.long_tokens;
    const double h = config.hidden_size, inner = config.intermediate_size;
    const double flops_per_token =
        config.num_hidden_layers *
        (2.0 * (4.0 * h * h + 2.0 * h * inner) + 4.0 * double(args.long_tokens) * h);
    emit("tokens_128", "tokens_per_s", tokens / seconds, "tokens/s");
    emit("tokens_128", "tflops", tokens * flops_per_token / seconds / 1e12, "TFLOP/s");
    // The same matmul shapes at the encoder's chunk size (8192 tokens), cuBLASLt alone.
    const int hi = config.hidden_size, ii = config.intermediate_size;
    const double rate = cublaslt_tflops(args.dtype == "bf16" ? CUDA_R_16BF : CUDA_R_16F, 8192,
                                        {{3 * hi, hi}, {hi, hi}, {ii, hi}, {hi, ii}}, stream);
    emit("cublaslt_gemms", "tflops", rate, "TFLOP/s");
  }
  cudaStreamDestroy(stream);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    fail(error.what());
  }
}

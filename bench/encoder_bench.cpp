// SequenceEncoder throughput on a file of texts (one JSON string a line, like the encoder
// fixture) at several batch sizes, or its single-call latency, printed as JSON. Usage:
//   encoder_bench --model DIR --texts FILE [--threads T] [--repeat N] [--batches 1,32]
//                 [--dtype f32|bf16] [--latency CALLS] [--first-calls 1] [--workload NAME]
//                 [--embeddings FILE]
// --latency times CALLS calls of one text each (cycling through the file) instead of passes, and
// reports their p50 and p99. --first-calls 1 times, for each token length 4..64 in steps of 4,
// the first call at that length after loading against the median of 20 warm calls at it.
// --embeddings writes the last pass's embeddings of the first batch size as raw float32, [texts x
// dim], for comparing with the peers.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nowrec/cpu_isa.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace {

struct Arguments {
  std::string model;
  std::string texts;
  int threads = 1;
  int repeat = 3;
  std::vector<std::size_t> batches{1, 32};
  nowrec::Dtype dtype = nowrec::Dtype::F32;
  int latency = 0;
  bool first_calls = false;
  std::string workload;
  std::string embeddings;
};

Arguments parse(int argc, char** argv) {
  Arguments args;
  if (const char* model = std::getenv("NOWREC_MODEL")) args.model = model;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--model") {
      args.model = value;
    } else if (flag == "--texts") {
      args.texts = value;
    } else if (flag == "--threads") {
      args.threads = std::max(0, std::atoi(value.c_str()));
    } else if (flag == "--repeat") {
      args.repeat = std::max(1, std::atoi(value.c_str()));
    } else if (flag == "--dtype" && (value == "f32" || value == "bf16")) {
      args.dtype = value == "bf16" ? nowrec::Dtype::BF16 : nowrec::Dtype::F32;
    } else if (flag == "--latency") {
      args.latency = std::max(0, std::atoi(value.c_str()));
    } else if (flag == "--first-calls") {
      args.first_calls = value == "1";
    } else if (flag == "--workload") {
      args.workload = value;
    } else if (flag == "--embeddings") {
      args.embeddings = value;
    } else if (flag == "--batches") {
      args.batches.clear();
      for (std::size_t pos = 0; pos < value.size();) {
        const std::size_t comma = value.find(',', pos);
        args.batches.push_back(std::max(1, std::atoi(value.substr(pos, comma - pos).c_str())));
        pos = comma == std::string::npos ? value.size() : comma + 1;
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (args.model.empty() || args.texts.empty()) {
    std::fprintf(stderr,
                 "usage: encoder_bench --model DIR --texts FILE [--threads T] [--repeat N] "
                 "[--batches 1,32] [--dtype f32|bf16] [--latency CALLS] [--first-calls 1] "
                 "[--workload NAME] [--embeddings FILE]\n");
    std::exit(2);
  }
  return args;
}

std::vector<std::string> read_texts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw nowrec::Error(nowrec::ErrorCode::NotFound, "cannot open texts file " + path);
  std::vector<std::string> texts;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) texts.push_back(nlohmann::json::parse(line).get<std::string>());
  }
  return texts;
}

// Seconds to embed every text once, `batch` texts per call.
double one_pass(const nowrec::SequenceEncoder& encoder, const std::vector<std::string_view>& texts,
                std::size_t batch, std::vector<float>& out) {
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t first = 0; first < texts.size(); first += batch) {
    const std::size_t count = std::min(batch, texts.size() - first);
    encoder.encode(std::span(texts).subspan(first, count),
                   std::span(out).first(count * encoder.dim()));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * sorted.size()));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

}  // namespace

int main(int argc, char** argv) try {
  const Arguments args = parse(argc, argv);
  const auto texts = read_texts(args.texts);
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  const auto encoder =
      nowrec::SequenceEncoder::load(args.model, {.threads = args.threads, .dtype = args.dtype});

  std::size_t tokens = 0;
  nowrec::TokenizeOptions options;
  options.max_length = encoder.info().max_length;
  std::vector<std::int32_t> ids;
  for (std::string_view text : views) {
    encoder.tokenizer().encode_ids(text, ids, options);
    tokens += ids.size();
  }

  const bool bf16 = args.dtype == nowrec::Dtype::BF16;
  nlohmann::json report{{"implementation", bf16 ? "nowrec bf16" : "nowrec"},
                        {"matmul", encoder.info().cpu_matmul},
                        {"isa", std::string(nowrec::active_cpu_kernels())},
                        {"texts", views.size()},
                        {"tokens", tokens},
                        {"threads", args.threads},
                        {"workload", args.workload},
                        {"runs", nlohmann::json::array()}};
  std::vector<float> out(
      std::max<std::size_t>(1, *std::max_element(args.batches.begin(), args.batches.end())) *
      encoder.dim());
  if (args.first_calls) {
    // One word per token ("movie" is a single WordPiece), so that each text has a new length.
    report["first_calls"] = nlohmann::json::array();
    for (std::size_t length = 4; length <= 64; length += 4) {
      std::string text;
      for (std::size_t w = 0; w + 2 < length; ++w) text += "movie ";
      const std::string_view one[] = {text};
      const auto time_call = [&] {
        const auto start = std::chrono::steady_clock::now();
        encoder.encode(one, std::span(out).first(encoder.dim()));
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
      };
      const double first = time_call();
      std::vector<double> warm(20);
      for (double& ms : warm) ms = time_call();
      std::sort(warm.begin(), warm.end());
      report["first_calls"].push_back(
          {{"tokens", length}, {"first_ms", first}, {"warm_p50_ms", percentile(warm, 50)}});
    }
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  if (args.latency > 0) {
    for (std::size_t i = 0; i < std::min<std::size_t>(views.size() * 2, 20); ++i)  // warm-up
      encoder.encode(std::span(views).subspan(i % views.size(), 1),
                     std::span(out).first(encoder.dim()));
    std::vector<double> ms(static_cast<std::size_t>(args.latency));
    for (std::size_t i = 0; i < ms.size(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      encoder.encode(std::span(views).subspan(i % views.size(), 1),
                     std::span(out).first(encoder.dim()));
      ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count();
    }
    std::sort(ms.begin(), ms.end());
    report["latency_ms"] = {{"calls", ms.size()},
                            {"p50", percentile(ms, 50)},
                            {"p99", percentile(ms, 99)},
                            {"min", ms.front()}};
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  std::vector<float> all;
  for (std::size_t batch : args.batches) {
    one_pass(encoder, views, batch, out);  // warm-up: arenas, oneDNN kernels, caches
    double best = 1e300;
    for (int r = 0; r < args.repeat; ++r)
      best = std::min(best, one_pass(encoder, views, batch, out));
    report["runs"].push_back({{"batch", batch},
                              {"seconds", best},
                              {"texts_per_s", static_cast<double>(views.size()) / best},
                              {"tokens_per_s", static_cast<double>(tokens) / best}});
    if (!args.embeddings.empty() && all.empty()) {
      all.resize(views.size() * encoder.dim());
      for (std::size_t first = 0; first < views.size(); first += batch) {
        const std::size_t count = std::min(batch, views.size() - first);
        encoder.encode(std::span(views).subspan(first, count),
                       std::span(all).subspan(first * encoder.dim(), count * encoder.dim()));
      }
      std::ofstream file(args.embeddings, std::ios::binary);
      file.write(reinterpret_cast<const char*>(all.data()),
                 static_cast<std::streamsize>(all.size() * sizeof(float)));
      if (!file) throw nowrec::Error(nowrec::ErrorCode::Io, "cannot write " + args.embeddings);
    }
  }
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "encoder_bench: %s\n", error.what());
  return 1;
}

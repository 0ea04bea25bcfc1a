// Tokenizer throughput: a corpus file tokenised N times on one thread and on T threads, printed
// as JSON (tokens/s and lines/s). Usage:
//   tokenizer_bench --model DIR --corpus FILE [--repeat N] [--threads T]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nowrec/error.hpp"
#include "nowrec/model_folder.hpp"
#include "nowrec/tokenizer.hpp"

namespace {

struct Arguments {
  std::string model;
  std::string corpus;
  int repeat = 5;
  int threads = 2;
};

Arguments parse(int argc, char** argv) {
  Arguments args;
  if (const char* model = std::getenv("NOWREC_MODEL")) args.model = model;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--model") {
      args.model = value;
    } else if (flag == "--corpus") {
      args.corpus = value;
    } else if (flag == "--repeat") {
      args.repeat = std::max(1, std::atoi(value));
    } else if (flag == "--threads") {
      args.threads = std::max(1, std::atoi(value));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      std::exit(2);
    }
  }
  if (args.model.empty() || args.corpus.empty()) {
    std::fprintf(stderr,
                 "usage: tokenizer_bench --model DIR --corpus FILE [--repeat N] [--threads T]\n");
    std::exit(2);
  }
  return args;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw nowrec::Error(nowrec::ErrorCode::NotFound, "cannot open corpus " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Tokens produced by lines [first, last) `repeat` times; `full` asks for whole Encodings
// (offsets, masks) rather than ids only.
std::size_t run_range(const nowrec::Tokenizer& tokenizer, const std::vector<std::string>& lines,
                      std::size_t first, std::size_t last, int repeat, bool full) {
  std::size_t tokens = 0;
  std::vector<std::int32_t> ids;
  for (int r = 0; r < repeat; ++r) {
    for (std::size_t i = first; i < last; ++i) {
      if (full) {
        tokens += tokenizer.encode(lines[i]).ids.size();
      } else {
        tokenizer.encode_ids(lines[i], ids);
        tokens += ids.size();
      }
    }
  }
  return tokens;
}

struct Result {
  double seconds = 0;
  std::size_t tokens = 0;
  std::size_t lines = 0;
};

Result run(const nowrec::Tokenizer& tokenizer, const std::vector<std::string>& lines, int repeat,
           int threads, bool full) {
  Result result;
  result.lines = lines.size() * static_cast<std::size_t>(repeat);
  std::vector<std::size_t> tokens(static_cast<std::size_t>(threads), 0);
  const auto start = std::chrono::steady_clock::now();
  if (threads == 1) {
    tokens[0] = run_range(tokenizer, lines, 0, lines.size(), repeat, full);
  } else {
    std::vector<std::thread> pool;
    const std::size_t chunk =
        (lines.size() + static_cast<std::size_t>(threads) - 1) / static_cast<std::size_t>(threads);
    for (int t = 0; t < threads; ++t) {
      const std::size_t first = std::min(lines.size(), chunk * static_cast<std::size_t>(t));
      const std::size_t last = std::min(lines.size(), first + chunk);
      pool.emplace_back([&, t, first, last] {
        tokens[static_cast<std::size_t>(t)] =
            run_range(tokenizer, lines, first, last, repeat, full);
      });
    }
    for (auto& thread : pool) thread.join();
  }
  result.seconds = seconds_since(start);
  for (const std::size_t n : tokens) result.tokens += n;
  return result;
}

void print(const char* name, int threads, const Result& result, bool last) {
  std::printf(
      "    {\"mode\": \"%s\", \"threads\": %d, \"seconds\": %.4f, \"tokens\": %zu, "
      "\"lines\": %zu, \"tokens_per_s\": %.0f, \"lines_per_s\": %.0f}%s\n",
      name, threads, result.seconds, result.tokens, result.lines,
      static_cast<double>(result.tokens) / result.seconds,
      static_cast<double>(result.lines) / result.seconds, last ? "" : ",");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Arguments args = parse(argc, argv);
    const auto load_start = std::chrono::steady_clock::now();
    const nowrec::Tokenizer tokenizer =
        nowrec::Tokenizer::load(nowrec::ModelFolder::load(args.model));
    const double load_seconds = seconds_since(load_start);
    const std::vector<std::string> lines = read_lines(args.corpus);

    // The warm-up pass also sizes the runs: at least --repeat passes and at least about a
    // second each, so that short corpora are not timed at the clock's resolution.
    const Result warm = run(tokenizer, lines, 1, 1, true);
    const int repeat = std::max(args.repeat, static_cast<int>(1.0 / std::max(warm.seconds, 1e-6)));
    const Result ids_single = run(tokenizer, lines, repeat, 1, false);
    const Result full_single = run(tokenizer, lines, repeat, 1, true);
    const Result ids_multi = run(tokenizer, lines, repeat, args.threads, false);
    const Result full_multi = run(tokenizer, lines, repeat, args.threads, true);

    std::printf("{\n  \"implementation\": \"nowrec\",\n  \"corpus\": \"%s\",\n",
                args.corpus.c_str());
    std::printf("  \"corpus_lines\": %zu,\n  \"max_length\": %zu,\n  \"load_seconds\": %.4f,\n",
                lines.size(), tokenizer.max_length(), load_seconds);
    std::printf("  \"repeat\": %d,\n", repeat);
    std::printf("  \"runs\": [\n");
    print("encode_ids", 1, ids_single, false);
    print("encode", 1, full_single, false);
    print("encode_ids", args.threads, ids_multi, false);
    print("encode", args.threads, full_multi, true);
    std::printf("  ]\n}\n");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", error.what());
    return 1;
  }
  return 0;
}

// `nowrec encode`: texts from stdin, one per line, to a .npy matrix of embeddings.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_locator.hpp"
#include "cli/npy_writer.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec::cli {
namespace {

struct EncodeArgs {
  std::string model;
  std::string dtype = "f32";
  std::size_t batch = 32;
  int threads = 0;
  std::string out = "-";
};

int run_encode(const EncodeArgs& args) {
  EncoderOptions options;
  options.threads = args.threads;
  options.dtype = args.dtype == "bf16" ? Dtype::BF16 : Dtype::F32;
  const SequenceEncoder encoder = SequenceEncoder::load(resolve_model_dir(args.model), options);

  // The header states the row count, so every line is read before the first is written.
  std::vector<std::string> lines;
  for (std::string line; std::getline(std::cin, line);) lines.push_back(std::move(line));

  const bool to_stdout = args.out == "-";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(
      to_stdout ? stdout : std::fopen(args.out.c_str(), "wb"),
      to_stdout ? +[](std::FILE*) { return 0; } : &std::fclose);
  if (!file) throw Error(ErrorCode::Io, "cannot open --out " + args.out + " for writing");
  const std::string what = to_stdout ? "standard output" : args.out;

  const std::size_t dim = encoder.dim();
  write_all(file.get(), npy_f32_header(lines.size(), dim), what);
  std::vector<std::string_view> batch;
  std::vector<float> embeddings;
  for (std::size_t first = 0; first < lines.size(); first += args.batch) {
    const std::size_t count = std::min(args.batch, lines.size() - first);
    batch.assign(lines.begin() + first, lines.begin() + first + count);
    embeddings.resize(count * dim);
    encoder.encode(batch, embeddings);
    write_all(file.get(),
              std::span(reinterpret_cast<const char*>(embeddings.data()),
                        embeddings.size() * sizeof(float)),
              what);
  }
  if (std::fflush(file.get()) != 0) throw Error(ErrorCode::Io, "cannot write " + what);
  return 0;
}

}  // namespace

void add_encode_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<EncodeArgs>();
  CLI::App* command = app.add_subcommand(
      "encode",
      "Read texts from stdin, one per line, and write their embeddings as a float32 .npy "
      "matrix [lines, dim]");
  command->add_option("--model", args->model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command
      ->add_option("--dtype", args->dtype,
                   "Compute type: f32, or bf16 (bf16 weights and activations in the matmuls)")
      ->check(CLI::IsMember({"f32", "bf16"}));
  command->add_option("--batch", args->batch, "Texts per encode call")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  command->add_option("--threads", args->threads, "Threads per call (0: all cores)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--out", args->out, "Output .npy file ('-': standard output)");
  command->callback([args, &exit_status] { exit_status = run_encode(*args); });
}

}  // namespace nowrec::cli

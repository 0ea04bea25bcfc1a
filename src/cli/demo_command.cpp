// `nowrec demo`: the main job on the default model, as far as nowrec goes today: load the model
// folder, describe it, and tokenize sample user events (item titles, searches in several
// languages) with per-event latency.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_locator.hpp"
#include "nowrec/nowrec.hpp"

namespace nowrec::cli {
namespace {

const std::vector<std::string> kSampleEvents = {
    "click: Toy Story (1995) Adventure|Animation|Children|Comedy|Fantasy",
    "click: Blade Runner 2049 (2017) Sci-Fi|Thriller",
    "search: something like a space adventure with robots",
    "search: 我 喜欢 吃 饼干",
    "search: アニメ映画 おすすめ",
    "comment: Crème brûlée scene was über-charming 😂👍",
};

int run_demo(const std::string& model_option) {
  using Clock = std::chrono::steady_clock;
  const auto load_start = Clock::now();
  const ModelFolder model = ModelFolder::load(resolve_model_dir(model_option));
  const Tokenizer tokenizer = Tokenizer::load(model);
  const SequenceEncoder encoder = SequenceEncoder::load(model);
  const double load_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();

  const EncoderInfo& info = encoder.info();
  std::cout << "nowrec " << version_string << "  cpu kernels: " << cpu_isa_name(active_cpu_isa())
            << "  cuda: "
            << (cuda_device_count() > 0 ? cuda_device_description(0)
                                        : std::string(cuda_built() ? "built, no device"
                                                                   : "not built"))
            << "\n";
  std::cout << "model  " << model.path().string() << "\n       " << info.model_type << ", "
            << info.layers << " layers, " << info.heads << " heads, dim " << info.dim
            << ", max " << info.max_length << " tokens, " << pooling_mode_name(info.pooling.mode)
            << " pooling" << (info.pooling.normalize ? " + normalize" : "") << ", vocab "
            << tokenizer.vocab_size() << "\n       loaded and validated in " << std::fixed
            << std::setprecision(1) << load_ms << " ms\n\n";

  std::vector<std::int32_t> ids;
  for (const std::string& event : kSampleEvents) {
    const auto start = Clock::now();
    const Encoding encoding = tokenizer.encode(event);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    std::cout << event << "\n  " << encoding.ids.size() << " tokens in " << std::setprecision(1)
              << us << " us:";
    for (std::size_t i = 0; i < encoding.ids.size(); ++i) {
      std::cout << ' ' << tokenizer.id_to_token(encoding.ids[i]);
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_status) {
  auto model = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("demo", "Run the demo on the default model");
  command->add_option("--model", *model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command->callback([model, &exit_status] { exit_status = run_demo(*model); });
}

}  // namespace nowrec::cli

// `nowrec info`: what a model folder holds and what this build and machine run it on, as JSON.
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/model_locator.hpp"
#include "nowrec/cpu_isa.hpp"
#include "nowrec/device.hpp"
#include "nowrec/model_folder.hpp"
#include "nowrec/version.hpp"

namespace nowrec::cli {
namespace {

std::string tokenizer_kind_name(TokenizerKind kind) {
  return kind == TokenizerKind::WordPiece ? "wordpiece" : "sentencepiece";
}

int run_info(const std::string& model_option) {
  const ModelFolder model = ModelFolder::load(resolve_model_dir(model_option));
  const TransformerConfig& config = model.config();
  nlohmann::ordered_json info;
  info["nowrec"] = version_string;
  info["cpu_isa"] = std::string(cpu_isa_name(active_cpu_isa()));
  info["cpu_kernels"] = std::string(active_cpu_kernels());
  info["cuda_built"] = cuda_built();
  info["cuda_devices"] = cuda_device_count();
  info["model"] = {
      {"path", model.path().string()},
      {"model_type", config.model_type},
      {"hidden_size", config.hidden_size},
      {"layers", config.num_hidden_layers},
      {"heads", config.num_attention_heads},
      {"intermediate_size", config.intermediate_size},
      {"vocab_size", config.vocab_size},
      {"hidden_act", config.hidden_act},
      {"max_sequence_length", model.max_sequence_length()},
      {"pooling", std::string(pooling_mode_name(model.pooling().mode))},
      {"normalize", model.pooling().normalize},
      {"tokenizer",
       model.has_tokenizer() ? tokenizer_kind_name(model.tokenizer_files().kind) : "none"},
      {"weights", model.has_weights() ? model.weights().tensors().size() : 0},
  };
  std::cout << info.dump(2) << '\n';
  return 0;
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_status) {
  auto model = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand("info", "Describe a model folder and this machine");
  command->add_option("--model", *model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command->callback([model, &exit_status] { exit_status = run_info(*model); });
}

}  // namespace nowrec::cli

// `nowrec tokenize`: one JSON object of token ids per input line.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/model_locator.hpp"
#include "nowrec/tokenizer.hpp"

namespace nowrec::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::size_t max_length = 0;
  bool no_special_tokens = false;
};

void append_ids_json(const std::vector<std::int32_t>& ids, std::string& out) {
  out += "{\"ids\":[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(ids[i]);
  }
  out += "]}\n";
}

int run_tokenize(const TokenizeArgs& args) {
  const Tokenizer tokenizer = Tokenizer::load(resolve_model_dir(args.model));
  TokenizeOptions options;
  options.max_length = args.max_length;
  options.add_special_tokens = !args.no_special_tokens;

  std::ios::sync_with_stdio(false);
  std::string line, out;
  std::vector<std::int32_t> ids;
  // getline splits on '\n' only: a '\r' stays part of the text, as it would for the model.
  while (std::getline(std::cin, line)) {
    tokenizer.encode_ids(line, ids, options);
    append_ids_json(ids, out);
    if (out.size() > (1u << 16)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) {
    std::cerr << "nowrec tokenize: cannot write to standard output\n";
    return 1;
  }
  return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* command = app.add_subcommand(
      "tokenize",
      "Read texts from stdin, one per line, and write {\"ids\":[...]} per line (special tokens "
      "added, truncated to the model's maximum length)");
  command->add_option("--model", args->model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command->add_option("--max-length", args->max_length,
                      "Tokens per line, special tokens included (default: the model's maximum)");
  command->add_flag("--no-special-tokens", args->no_special_tokens,
                    "Do not add [CLS]/[SEP] (or <s>/</s>)");
  command->callback([args, &exit_status] { exit_status = run_tokenize(*args); });
}

}  // namespace nowrec::cli

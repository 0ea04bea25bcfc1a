// `nowrec catalog`: embeds every item of a MovieLens-style folder into reusable catalog files.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/catalog_cache.hpp"
#include "cli/commands.hpp"
#include "cli/model_locator.hpp"
#include "nowrec/error.hpp"

namespace nowrec::cli {
namespace {

struct CatalogArgs {
  std::string data;
  std::string model;
  std::string out = "catalog";
  std::size_t max_tags = 10;
  std::size_t batch = 64;
  int threads = 0;
  bool rebuild = false;
};

int run_catalog(const CatalogArgs& args) {
  const std::filesystem::path model_dir = resolve_model_dir(args.model);
  const SequenceEncoder encoder = SequenceEncoder::load(model_dir, {.threads = args.threads});
  const CatalogEmbeddings catalog = load_or_build_catalog(
      {.data_dir = args.data, .model_dir = model_dir, .max_tags = args.max_tags}, encoder, args.out,
      {.batch = args.batch, .rebuild = args.rebuild, .log_prefix = "nowrec catalog: "});
  std::fprintf(stderr, "nowrec catalog: %s holds %zu items, dim %zu (%s)\n", args.out.c_str(),
               catalog.ids.size(), catalog.dim,
               catalog.reused ? "already up to date" : "written now");
  return 0;
}

}  // namespace

void add_catalog_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<CatalogArgs>();
  CLI::App* command = app.add_subcommand(
      "catalog",
      "Embed the items of a MovieLens-style folder (movies.csv, optional tags.csv) and write "
      "item_ids.npy, item_embeddings.npy, item_texts.txt and items.idx");
  command->add_option("--data", args->data, "Folder with movies.csv and optionally tags.csv")
      ->required();
  command->add_option("--model", args->model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command->add_option("--out", args->out,
                      "Output folder; reused as is when made from the same inputs (default: "
                      "catalog)");
  command->add_option("--max-tags", args->max_tags, "Most used tags per item text (default 10)");
  command->add_option("--batch", args->batch, "Texts per encoder call (default 64)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  command->add_option("--threads", args->threads, "Encoder threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--rebuild", args->rebuild, "Embed again even when the folder is up to date");
  command->callback([args, &exit_status] { exit_status = run_catalog(*args); });
}

}  // namespace nowrec::cli

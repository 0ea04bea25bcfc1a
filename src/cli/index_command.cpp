// `nowrec index`: embeds the texts of an items file and writes an ItemIndex file.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "cli/item_table.hpp"
#include "cli/model_locator.hpp"
#include "cli/progress.hpp"
#include "nowrec/error.hpp"
#include "nowrec/item_index.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec::cli {
namespace {

struct IndexArgs {
  std::string model;
  std::string items;
  std::string out;
  std::string storage = "f32";
  std::string id_column;
  std::vector<std::string> text_columns;
  std::size_t limit = 0;
  std::size_t batch = 64;
  int threads = 0;
};

StorageType parse_storage(const std::string& name) {
  if (name == "f32") return StorageType::F32;
  if (name == "bf16") return StorageType::BF16;
  if (name == "int8") return StorageType::Int8;
  throw Error(ErrorCode::InvalidArgument, "--storage '" + name + "' is not one of f32, bf16, int8");
}

int run_index(const IndexArgs& args) {
  const StorageType storage = parse_storage(args.storage);
  if (args.batch == 0) throw Error(ErrorCode::InvalidArgument, "--batch must be positive");
  const ItemTable table = read_item_table(
      args.items,
      {.id_column = args.id_column, .text_columns = args.text_columns, .limit = args.limit});
  if (table.ids.empty()) {
    throw Error(ErrorCode::InvalidArgument, args.items + ": no item rows below the header");
  }
  const SequenceEncoder encoder =
      SequenceEncoder::load(resolve_model_dir(args.model), {.threads = args.threads});
  ItemIndex index(encoder.dim(), {.storage = storage});
  std::fprintf(stderr, "nowrec index: %zu items from %s, dim %zu, %s storage\n", table.ids.size(),
               args.items.c_str(), encoder.dim(), args.storage.c_str());

  Progress progress(table.ids.size());
  std::vector<std::string_view> batch;
  for (std::size_t first = 0; first < table.ids.size(); first += args.batch) {
    const std::size_t count = std::min(args.batch, table.ids.size() - first);
    batch.assign(table.texts.begin() + first, table.texts.begin() + first + count);
    const std::vector<float> vectors = encoder.encode(batch);
    index.add(std::span(table.ids).subspan(first, count), vectors);
    progress.update(first + count);
  }
  const double seconds = progress.elapsed();
  index.save(args.out);
  std::fprintf(stderr, "nowrec index: wrote %s (%zu items) in %.1f s, %.0f items/s\n",
               args.out.c_str(), index.size(), seconds, double(index.size()) / seconds);
  return 0;
}

}  // namespace

void add_index_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<IndexArgs>();
  CLI::App* command = app.add_subcommand(
      "index", "Embed the texts of an items file (CSV or TSV with a header) into an index file");
  command->add_option("--model", args->model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command->add_option("--items", args->items, "CSV or TSV file: a header, then one item per row")
      ->required();
  command->add_option("--out", args->out, "Index file to write (atomically)")->required();
  command->add_option("--storage", args->storage, "f32 (default), bf16 or int8");
  command->add_option("--id-column", args->id_column, "Integer id column (default: the first)");
  command->add_option("--text-column", args->text_columns,
                      "Text column, repeatable; joined by spaces (default: all but the id)");
  command->add_option("--limit", args->limit, "Index only the first N rows");
  command->add_option("--batch", args->batch, "Texts per encoder call (default 64)");
  command->add_option("--threads", args->threads, "Encoder threads (default: all cores)");
  command->callback([args, &exit_status] { exit_status = run_index(*args); });
}

}  // namespace nowrec::cli

// `nowrec demo`: the main job on the default model. It embeds a small movie catalog, replays
// one user's events (clicks, a skip, searches in English and Chinese) through the
// InterestTracker, and after each event shows the updated top 5 and the per-event latency.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/commands.hpp"
#include "cli/demo_catalog.hpp"
#include "cli/model_locator.hpp"
#include "nowrec/nowrec.hpp"

namespace nowrec::cli {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

struct DemoEvent {
  std::int64_t seconds;  // after the session start
  std::string_view action;
  float weight;
  std::int64_t item = 0;      // catalog item, or 0 for a text event
  std::string_view text = {};  // the search text of a text event
};

const std::vector<DemoEvent> kEvents = {
    {0, "click", 1.0f, 1},
    {90, "click", 1.0f, 60069},
    {200, "like", 2.0f, 115617},
    {420, "search", 4.0f, 0, "something like a space adventure with robots"},
    {600, "skip", -1.0f, 589},
    {900, "search", 4.0f, 0, "我想看宫崎骏的动画电影 Miyazaki anime"},
};

void print_header(const ModelFolder& model, const SequenceEncoder& encoder, double load_ms) {
  const EncoderInfo& info = encoder.info();
  std::string cuda = cuda_built() ? "built, no device" : "not built";
  if (cuda_device_count() > 0) cuda = cuda_device_description(0);
  std::printf("nowrec %s | cpu kernels: %s | cuda: %s\n", version_string,
              std::string(cpu_isa_name(active_cpu_isa())).c_str(), cuda.c_str());
  std::printf("model  %s\n       %s, %d layers, %d heads, dim %zu, max %zu tokens, %s pooling%s,"
              " vocab %zu; loaded in %.0f ms\n\n",
              model.path().c_str(), info.model_type.c_str(), info.layers, info.heads, info.dim,
              info.max_length, std::string(pooling_mode_name(info.pooling.mode)).c_str(),
              info.pooling.normalize ? " + normalize" : "", encoder.tokenizer().vocab_size(),
              load_ms);
}

int run_demo(const std::string& model_option) {
  const auto load_start = Clock::now();
  const ModelFolder model = ModelFolder::load(resolve_model_dir(model_option));
  const SequenceEncoder encoder = SequenceEncoder::load(model);
  print_header(model, encoder, elapsed_ms(load_start));

  // The catalog: every item text embedded in one packed batch.
  std::vector<std::string_view> texts;
  std::vector<std::int64_t> ids;
  std::unordered_map<std::int64_t, std::size_t> row_of;
  for (const DemoMovie& movie : kDemoCatalog) {
    row_of[movie.id] = ids.size();
    ids.push_back(movie.id);
    texts.push_back(movie.text);
  }
  const auto embed_start = Clock::now();
  const std::vector<float> item_vectors = encoder.encode(texts);
  const double embed_ms = elapsed_ms(embed_start);
  std::printf("catalog: %zu movies embedded in %.1f ms (%.0f texts/s)\n\n", ids.size(), embed_ms,
              1000.0 * double(ids.size()) / embed_ms);
  const std::size_t dim = encoder.dim();
  ItemIndex catalog(dim);
  catalog.add(ids, item_vectors);
  const Ranker ranker(catalog);

  InterestTracker tracker({.dim = dim, .short_term_half_life_seconds = 600});
  const std::string user = "demo-user";
  const std::int64_t start = 1'700'000'000;
  std::set<std::int64_t> seen;

  for (const DemoEvent& event : kEvents) {
    const auto event_start = Clock::now();
    std::vector<float> text_vector;
    std::span<const float> embedding;
    if (event.item != 0) {
      embedding = std::span(item_vectors).subspan(row_of.at(event.item) * dim, dim);
      seen.insert(event.item);
    } else {
      const std::string_view query[] = {event.text};
      text_vector = encoder.encode(query);
      embedding = text_vector;
    }
    tracker.update({.user = user, .item_embedding = embedding, .weight = event.weight,
                    .timestamp = start + event.seconds});
    const auto interest = tracker.short_term_interest(user, start + event.seconds);
    const auto ranked = ranker.top_k(*interest, catalog.size());
    const double latency_ms = elapsed_ms(event_start);

    if (event.item != 0) {
      std::printf("t=+%4llds  %-6s %s\n", static_cast<long long>(event.seconds),
                  std::string(event.action).c_str(),
                  std::string(kDemoCatalog[row_of.at(event.item)].text).c_str());
    } else {
      std::printf("t=+%4llds  %-6s \"%s\"\n", static_cast<long long>(event.seconds),
                  std::string(event.action).c_str(), std::string(event.text).c_str());
    }
    std::printf("          update + rank in %.0f us%s; top 5 not yet seen:\n", 1000.0 * latency_ms,
                event.item == 0 ? " (text encoded on the CPU)" : "");
    int shown = 0;
    for (const ScoredItem& item : ranked) {
      if (seen.contains(item.id)) continue;
      std::printf("            %+.3f  %s\n", item.score,
                  std::string(kDemoCatalog[row_of.at(item.id)].text).c_str());
      if (++shown == 5) break;
    }
    std::printf("\n");
  }
  std::printf("Interest here is the short-term one: the sum of the embeddings of what the user\n"
              "clicked, liked, skipped (negative weight) and searched for, each halved every 10\n"
              "minutes; searches weigh 4, likes 2, clicks 1.\n");
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_status) {
  auto model = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "demo", "Embed a small movie catalog, replay one user's events, show live top 5");
  command->add_option("--model", *model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command->callback([model, &exit_status] { exit_status = run_demo(*model); });
}

}  // namespace nowrec::cli

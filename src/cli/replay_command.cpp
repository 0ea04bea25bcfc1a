// `nowrec replay`: replays an interaction log against the catalog and scores each method's
// rankings under the leave-one-out, the streaming or the temporal protocol (docs/quality.md).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/catalog_cache.hpp"
#include "cli/commands.hpp"
#include "cli/model_locator.hpp"
#include "nowrec/cpu_isa.hpp"
#include "nowrec/error.hpp"
#include "nowrec/eval/dataset.hpp"
#include "nowrec/next_interest_model.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "replay/catalog_space.hpp"
#include "replay/method_grid.hpp"
#include "replay/protocols.hpp"
#include "replay/recommender_methods.hpp"
#include "replay/results_json.hpp"
#include "replay/split.hpp"
#include "replay/tuning.hpp"

namespace nowrec::cli {
namespace {

namespace fs = std::filesystem;
using namespace nowrec::eval::replay;

const std::vector<std::string> kMethods = {"popular",    "cooccurrence", "covisitation",  "text",
                                           "text+prior", "learned",      "learned+prior", "fused"};

struct ReplayArgs {
  std::string data;
  std::string model;
  std::string cache = "catalog";
  std::string protocol = "leave-one-out";
  std::string methods = "popular,cooccurrence,text,text+prior";
  std::string next_interest_model;
  std::string out;
  std::string write_config;
  int threads = 0;
  std::size_t limit_users = 0;
  double cut_quantile = 0.85;  // temporal: where the test period starts
};

void log(const std::string& line) { std::fprintf(stderr, "nowrec replay: %s\n", line.c_str()); }

std::set<std::string> parse_methods(const std::string& list) {
  std::set<std::string> methods;
  std::stringstream stream(list);
  std::string name;
  while (std::getline(stream, name, ',')) {
    if (std::find(kMethods.begin(), kMethods.end(), name) == kMethods.end()) {
      throw Error(ErrorCode::InvalidArgument,
                  "--methods: '" + name +
                      "' is not one of popular, cooccurrence, covisitation, text, text+prior, "
                      "learned, learned+prior, fused");
    }
    methods.insert(name);
  }
  if (methods.empty()) throw Error(ErrorCode::InvalidArgument, "--methods names no method");
  return methods;
}

struct Evaluated {
  std::string method;
  TuningResult tuning;
  nlohmann::json settings;
  ProtocolResult result;
};

int run_replay(const ReplayArgs& args) {
  const bool streaming = args.protocol == "streaming";
  const bool temporal = args.protocol == "temporal";
  if (!streaming && !temporal && args.protocol != "leave-one-out") {
    throw Error(ErrorCode::InvalidArgument,
                "--protocol '" + args.protocol + "' is not leave-one-out, streaming or temporal");
  }
  const std::set<std::string> methods = parse_methods(args.methods);
  const bool wants_learned =
      methods.contains("learned") || methods.contains("learned+prior") || methods.contains("fused");
  if (wants_learned && args.next_interest_model.empty()) {
    throw Error(ErrorCode::InvalidArgument,
                "--methods learned, learned+prior and fused need --next-interest-model");
  }
  if (streaming && wants_learned) {
    // Its cases are every event from a user's second, most of them in the leave-one-out training
    // portions a model is trained on: it would score memorisation.
    throw Error(ErrorCode::InvalidArgument,
                "--protocol streaming predicts the events a trained model learned from; use "
                "--protocol temporal (or leave-one-out) for learned, learned+prior and fused");
  }
  if (!args.write_config.empty() && !methods.contains("fused")) {
    throw Error(ErrorCode::InvalidArgument, "--write-config needs --methods with fused");
  }
  const bool wants_text =
      wants_learned || methods.contains("text") || methods.contains("text+prior");
  const auto started = std::chrono::steady_clock::now();

  const fs::path dir = args.data;
  const fs::path ratings = dir / "ratings.csv", movies = dir / "movies.csv",
                 tags = dir / "tags.csv";
  // The text methods need the catalog's embeddings, from the cache `nowrec catalog` writes
  // (built here when missing or stale); the others need its ids only.
  std::optional<SequenceEncoder> encoder;
  CatalogEmbeddings catalog;
  fs::path model_dir;
  if (wants_text) {
    model_dir = resolve_model_dir(args.model);
    encoder.emplace(SequenceEncoder::load(model_dir, {.threads = args.threads}));
    catalog = load_or_build_catalog({.data_dir = dir, .model_dir = model_dir}, *encoder, args.cache,
                                    {.log_prefix = "nowrec replay: "});
  } else {
    for (const CatalogItem& item :
         load_item_catalog(movies, fs::exists(tags) ? tags : fs::path())) {
      catalog.ids.push_back(item.id);
    }
  }
  const std::vector<std::int64_t>& ids = catalog.ids;
  const ReplayData data =
      make_replay_data(load_interactions(ratings), ids, ratings.string(), movies.string());
  const LeaveOneOutSplit split = leave_one_out(data);
  if (split.users.empty()) {
    throw Error(ErrorCode::InvalidArgument,
                ratings.string() + ": no user has the 3 interactions leave-one-out needs");
  }
  log(std::to_string(data.events.size()) + " interactions, " + std::to_string(data.users.size()) +
      " users, " + std::to_string(ids.size()) + " catalog items; " +
      std::to_string(split.users.size()) + " users with a validation and a test target");

  const ProtocolOptions options{.k = 10, .limit_users = args.limit_users};
  // Leave-one-out and streaming tune on the leave-one-out validation targets; temporal on its
  // own validation period, with every method learning online.
  std::optional<TemporalCuts> cuts;
  if (temporal) {
    cuts = temporal_cuts(data, args.cut_quantile);
    log("temporal split at quantile " + std::to_string(args.cut_quantile) + ": validation from " +
        std::to_string(cuts->validation) + ", test from " + std::to_string(cuts->test));
  }
  const Validation validate = temporal ? temporal_validation(data, *cuts, options)
                                       : leave_one_out_validation(data, split, options);
  MethodContext context{.data = &data, .ranking = {.k = options.k, .threads = args.threads}};

  std::optional<CatalogStore> store;
  std::optional<ItemIndex> text_index;
  std::optional<LearnedNextInterestModel> model;
  std::optional<ItemIndex> learned_index;
  if (wants_text) {
    store.emplace(data, catalog.embeddings, catalog.dim);
    text_index.emplace(make_catalog_index(data, catalog.embeddings, catalog.dim));
    context.text_store = &*store;
    context.text_index = &*text_index;
  }
  if (wants_learned) {
    model.emplace(LearnedNextInterestModel::load(args.next_interest_model, *store, catalog.dim,
                                                 {.threads = args.threads}));
    const std::vector<float> vectors = model->item_vectors(data.item_ids, catalog.embeddings);
    learned_index.emplace(make_catalog_index(data, vectors, model->item_dim()));
    context.model = &*model;
    context.learned_index = &*learned_index;
    log("next-interest model " + args.next_interest_model + ": window " +
        std::to_string(model->window()) + ", item dim " + std::to_string(model->item_dim()));
  }

  // Tunes on validation, then runs the chosen setting under the protocol asked for.
  std::vector<Evaluated> evaluated;
  // `earlier_trials`: the trials of a stage tuned before this grid, kept in the record.
  const auto evaluate = [&](const std::string& name, const std::vector<MethodCandidate>& grid,
                            const nlohmann::json& earlier_trials = nlohmann::json::array()) {
    log(name + ": tuning " + std::to_string(grid.size()) + " settings on validation");
    const auto tag = [&](const std::string& line) { log("  " + name + " " + line); };
    TuningResult tuning = tune_on_validation(grid, validate, options.k, tag);
    nlohmann::json trials = earlier_trials;
    for (const auto& trial : tuning.trials) trials.push_back(trial);
    tuning.trials = trials;
    const MethodCandidate& chosen = grid[tuning.best];
    ProtocolResult result;
    if (methods.contains(name)) {
      log(name + ": " + args.protocol + " test with " + chosen.params.dump());
      const auto method = chosen.make(streaming || temporal ? nullptr : &split);
      if (temporal) {
        result = run_temporal(data, *method, {.from = cuts->test}, options);
      } else if (streaming) {
        result = run_streaming(data, *method, options);
      } else {
        result = run_leave_one_out(data, split, *method, HeldOut::Test, options);
      }
      evaluated.push_back({name, tuning, chosen.params, result});
    }
    return tuning.best;
  };

  const bool wants_prior = methods.contains("text+prior") || methods.contains("learned+prior") ||
                           methods.contains("fused");
  std::int64_t prior_window = 0;
  if (methods.contains("popular") || wants_prior) {
    prior_window = popular_windows()[evaluate("popular", popular_candidates(context))];
  }
  if (methods.contains("cooccurrence")) evaluate("cooccurrence", cooccurrence_candidates(context));
  CoVisitationOptions co_visitation;
  if (methods.contains("covisitation") || methods.contains("fused")) {
    const std::vector<CoVisitationOptions> grid = covisitation_grid();
    co_visitation = grid[evaluate("covisitation", covisitation_candidates(context, grid))];
  }
  if (methods.contains("text") || methods.contains("text+prior")) {
    const std::vector<TextSettings> grid = text_grid();
    const TextSettings best = grid[evaluate("text", text_candidates(context, grid))];
    if (methods.contains("text+prior")) {
      evaluate("text+prior", text_candidates(context, text_prior_grid(best, prior_window)));
    }
  }

  if (methods.contains("learned")) {
    evaluate("learned", learned_candidates(context, learned_grid(model->window())));
  }
  // The learned model's own prior (weight and window) unless learned+prior tunes one.
  LearnedSettings learned_prior{.prior_weight = wants_learned ? model->prior_weight() : 0.0f,
                                .prior_window_seconds = 0};
  if (methods.contains("learned+prior")) {
    const std::vector<LearnedSettings> grid =
        learned_prior_grid(model->window(), prior_window, model->prior_weight());
    learned_prior = grid[evaluate("learned+prior", learned_candidates(context, grid))];
  }
  if (methods.contains("fused")) {
    // Two stages: the co-visitation weight at the learned prior (learned+prior's when it ran, else
    // the model's own over all time), then the prior around it.
    const std::vector<FusedSettings> first =
        fused_covisitation_grid(co_visitation, learned_prior.prior_weight,
                                learned_prior.prior_window_seconds, model->window());
    const std::vector<MethodCandidate> first_candidates = fused_candidates(context, first);
    log("fused: tuning " + std::to_string(first.size()) + " co-visitation weights on validation");
    const TuningResult stage =
        tune_on_validation(first_candidates, validate, options.k,
                           [&](const std::string& line) { log("  fused " + line); });
    const std::vector<FusedSettings> second = fused_prior_grid(first[stage.best]);
    const FusedSettings& chosen =
        second[evaluate("fused", fused_candidates(context, second), stage.trials)];
    if (!args.write_config.empty()) {
      // What a server runs: the chosen weights and graph, learning online, seen items excluded.
      RecommenderConfig config = chosen.config;
      config.co_visitation_options = chosen.co_visitation;
      config.threads = 1;
      config.save(args.write_config);
      log("wrote the fused method's configuration to " + args.write_config);
    }
  }

  nlohmann::json results = nlohmann::json::array();
  std::size_t users = 0;
  for (const Evaluated& entry : evaluated) {
    nlohmann::json json = result_entry(entry.method, entry.result.metrics, entry.result.latency,
                                       entry.result.cpu, entry.settings, options.k);
    json["validation"] = metrics_json(entry.tuning.validation.metrics, options.k);
    json["tuning"] = entry.tuning.trials;
    results.push_back(json);
  }
  if (streaming || temporal) {
    // Users with at least one case: an event (at or after the test cut, for temporal) that
    // follows another of theirs.
    const std::size_t evaluated_users =
        args.limit_users == 0 ? data.users.size() : std::min(args.limit_users, data.users.size());
    for (std::size_t u = 0; u < evaluated_users; ++u) {
      const auto& own = data.user_events[u];
      if (!temporal) {
        users += own.size() > 1;
      } else {
        users += own.size() > 1 && data.events[own.back()].timestamp >= cuts->test;
      }
    }
  } else {
    users =
        args.limit_users == 0 ? split.users.size() : std::min(args.limit_users, split.users.size());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  nlohmann::json document = {{"dataset", fs::absolute(dir).lexically_normal().filename().string()},
                             {"protocol", temporal    ? "temporal"
                                          : streaming ? "streaming"
                                                      : "leave_one_out"},
                             {"catalog_items", ids.size()},
                             {"users", users},
                             {"results", results},
                             {"replay",
                              {{"interactions", data.events.size()},
                               {"k", options.k},
                               {"threads", args.threads},
                               {"limit_users", args.limit_users},
                               {"model", model_dir.string()},
                               {"next_interest_model", args.next_interest_model},
                               {"seconds", seconds},
                               {"cpu_kernels", std::string(active_cpu_kernels())},
                               {"hardware_threads", std::thread::hardware_concurrency()}}}};

  std::printf("%-14s %8s %8s %8s %8s %8s %10s %10s %10s\n", "method", "cases", "hr@10", "ndcg@10",
              "mrr", "cov@10", "p50 ms", "p99 ms", "cpu p99");
  for (const Evaluated& entry : evaluated) {
    const Metrics& m = entry.result.metrics;
    std::printf("%-14s %8zu %8.4f %8.4f %8.4f %8.4f %10.3f %10.3f %10.3f\n", entry.method.c_str(),
                m.count, m.hr, m.ndcg, m.mrr, m.coverage, entry.result.latency.p50_ms,
                entry.result.latency.p99_ms, entry.result.cpu.p99_ms);
  }
  if (temporal) {
    document["replay"]["temporal"] = {{"cut_quantile", args.cut_quantile},
                                      {"valid_cut", cuts->validation},
                                      {"test_cut", cuts->test}};
  }
  if (!args.out.empty()) {
    std::ofstream out(args.out, std::ios::trunc);
    out << document.dump(2) << '\n';
    if (!out) throw Error(ErrorCode::Io, args.out + ": cannot write the results");
    log("wrote " + args.out);
  }
  return 0;
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* command = app.add_subcommand(
      "replay", "Replay ratings.csv against movies.csv and score each method's rankings");
  command
      ->add_option("--data", args->data,
                   "Folder with ratings.csv, movies.csv and (optional) tags.csv")
      ->required();
  command->add_option("--model", args->model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command->add_option("--cache", args->cache,
                      "Catalog folder of `nowrec catalog`, reused when up to date, else written "
                      "(default: catalog)");
  command->add_option("--protocol", args->protocol,
                      "leave-one-out (default), streaming or temporal");
  command->add_option("--cut-quantile", args->cut_quantile,
                      "temporal: the test period starts at this quantile of all timestamps, the "
                      "validation period at the same quantile of those before it (default 0.85)");
  command->add_option("--methods", args->methods,
                      "Comma-separated: popular, cooccurrence, covisitation, text, text+prior, "
                      "learned, learned+prior, fused (default: "
                      "popular,cooccurrence,text,text+prior)");
  command->add_option("--next-interest-model", args->next_interest_model,
                      "Folder of a trained LearnedNextInterestModel (for the learned methods)");
  command->add_option("--out", args->out, "Results JSON to write");
  command->add_option("--write-config", args->write_config,
                      "Write the fused method's tuned RecommenderConfig (JSON) here");
  command->add_option("--threads", args->threads, "Encoder and Ranker threads (default: all)");
  command->add_option("--limit-users", args->limit_users,
                      "Evaluate only the first N users by id (all events still replayed)");
  command->callback([args, &exit_status] { exit_status = run_replay(*args); });
}

}  // namespace nowrec::cli

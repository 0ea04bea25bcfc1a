// `nowrec demo`: real MovieLens users replayed through a Recommender. It embeds (or reuses) the
// ml-latest-small catalog, feeds a few users' ratings in time order, and after each event prints
// the interests the tracker holds, the top 10 the Recommender ranks and why, and the latency; then
// two searches, in English and in Chinese, turn the recommendations at once.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "cli/catalog_cache.hpp"
#include "cli/catalog_item_store.hpp"
#include "cli/commands.hpp"
#include "cli/model_locator.hpp"
#include "data/csv_reader.hpp"
#include "nowrec/nowrec.hpp"

#ifndef NOWREC_EXAMPLE_DATA_DIR
#define NOWREC_EXAMPLE_DATA_DIR "examples/data/ml-latest-small"
#endif

namespace nowrec::cli {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_us(Clock::time_point since) {
  return std::chrono::duration<double, std::micro>(Clock::now() - since).count();
}

struct DemoArgs {
  std::string model;
  std::string data;
  std::string cache;
  // user:warm-up:shown — replay `warm-up` ratings silently, then show `shown` one by one.
  std::string users = "401:10:2,303:16:2,533:16:3,12:12:2";
  std::string english = "something like a space adventure with robots";
  std::string chinese = "我想看一部关于太空和机器人的冒险电影";
  float prior_weight = 0.02f;
  std::string config;                  // a RecommenderConfig JSON file; empty: demo_config()
  double short_term_half_life = 60.0;  // MovieLens users rate a movie every few seconds
  std::size_t top = 10;
  // Per-event work runs on one thread by default: one user's update, rank and search encode
  // are small, and a thread team costs more than it saves on a busy machine (a service would
  // spread users over cores instead). Embedding the catalog uses every core.
  int threads = 1;
  int build_threads = 0;
};

struct DemoUser {
  std::int64_t id = 0;
  std::size_t warmup = 0;
  std::size_t shown = 0;
};

// One number of --users. std::from_chars takes no sign (for unsigned types), space or '+', so
// "-1" cannot wrap around to a huge count.
template <typename Number>
Number users_number(const std::string& part, const std::string& name, std::string_view text) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool whole = !text.empty() && end == text.data() + text.size();
  if (!whole || error != std::errc()) {
    const std::string problem = whole && error == std::errc::result_out_of_range ? "is too large"
                                : std::is_signed_v<Number> ? "is not an integer"
                                                           : "is not a whole number";
    throw Error(ErrorCode::InvalidArgument,
                "--users: '" + part + "': " + name + " '" + std::string(text) + "' " + problem);
  }
  return value;
}

std::vector<DemoUser> parse_users(const std::string& text) {
  std::vector<DemoUser> users;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string part = text.substr(start, end - start);
    const std::size_t first = part.find(':');
    const std::size_t second = first == std::string::npos ? first : part.find(':', first + 1);
    if (second == std::string::npos || part.find(':', second + 1) != std::string::npos) {
      throw Error(ErrorCode::InvalidArgument,
                  "--users: '" + part + "' is not user:warm-up:shown (e.g. 533:16:4, shown > 0)");
    }
    const std::string_view view = part;
    DemoUser user;
    // Interaction::user is signed: any id the ratings file may hold can be named.
    user.id = users_number<std::int64_t>(part, "user", view.substr(0, first));
    user.warmup =
        users_number<std::size_t>(part, "warm-up", view.substr(first + 1, second - first - 1));
    user.shown = users_number<std::size_t>(part, "shown", view.substr(second + 1));
    if (user.shown == 0) {
      throw Error(ErrorCode::InvalidArgument, "--users: '" + part + "': shown must be positive");
    }
    users.push_back(user);
    start = end + 1;
  }
  if (users.empty()) throw Error(ErrorCode::InvalidArgument, "--users: no user given");
  return users;
}

// The data folder: --data, else the copy carried in the source tree.
std::filesystem::path resolve_data_dir(const std::string& option) {
  if (!option.empty()) return option;
  if (std::filesystem::exists("examples/data/ml-latest-small/movies.csv")) {
    return "examples/data/ml-latest-small";
  }
  return NOWREC_EXAMPLE_DATA_DIR;
}

// The cache folder: --cache, else catalog-cache/ in the build folder (beside src/ of the binary).
std::filesystem::path resolve_cache_dir(const std::string& option) {
  if (!option.empty()) return option;
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "catalog-cache";
  return exe.parent_path().parent_path() / "catalog-cache";
}

// Pads or cuts UTF-8 text to `width` code points, so columns line up for Latin titles.
std::string fit(const std::string& text, std::size_t width) {
  std::string out;
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (points + 1 == width && i + length < text.size()) {
      out += "…";
      ++points;
      break;
    }
    out.append(text, i, length);
    i += length;
    ++points;
  }
  if (points < width) out.append(width - points, ' ');
  return out;
}

// Cuts UTF-8 text to at most `width` code points.
std::string shorten(const std::string& text, std::size_t width) {
  std::string out = fit(text, width);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string genres_of(const CatalogItem& item, std::size_t at_most = 3) {
  std::string text;
  for (std::size_t i = 0; i < item.genres.size() && i < at_most; ++i) {
    text += (i > 0 ? ", " : "") + item.genres[i];
  }
  return text.empty() ? "no genre" : text;
}

std::string utc_time(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&t, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &parts);
  return text;
}

struct Latencies {
  std::vector<double> update_us, recommend_us, encode_us;
};

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The demo's blend without --config: the short-term interest leads (what the user does now);
// clusters count by their importance relative to the strongest one, between 0.5 and 0.8;
// long-term is the stable background. Calibration divides each interest's weight by its best
// cosine with any unseen movie, so that a search text, whose cosines with movie texts run near
// 0.6, competes fairly with interests made of movie embeddings, whose best cosines run near 0.85.
RecommenderConfig demo_config(const DemoArgs& args) {
  if (!args.config.empty()) return RecommenderConfig::load(args.config);
  RecommenderConfig config;
  config.short_term = 1.0f;
  config.long_term = 0.6f;
  config.clusters = 0.8f;
  config.clusters_min = 0.5f;
  config.negative = 0.5f;
  config.prior = args.prior_weight;
  config.calibrate = true;
  config.threads = args.threads;
  return config;
}

float dot(std::span<const float> a, std::span<const float> b) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) sum += a[i] * b[i];
  return sum;
}

// "short-term", "long-term", "interest 2" (the second cluster in the tracker's order), ...
std::string interest_label(const std::vector<Interest>& interests, std::size_t index) {
  if (index >= interests.size()) return "-";
  switch (interests[index].kind) {
    case InterestKind::ShortTerm:
      return "short-term";
    case InterestKind::LongTerm:
      return "long-term";
    case InterestKind::Predicted:
      return "predicted";
    case InterestKind::Negative:
      return "negative";
    case InterestKind::Cluster:
      break;
  }
  const auto clusters =
      std::count_if(interests.begin(), interests.begin() + std::ptrdiff_t(index) + 1,
                    [](const Interest& i) { return i.kind == InterestKind::Cluster; });
  return "interest " + std::to_string(clusters);
}

// Everything the event loop shares.
class Demo {
 public:
  Demo(const DemoArgs& args, const SequenceEncoder& encoder, const CatalogEmbeddings& catalog,
       const std::vector<Interaction>& interactions)
      : args_(args),
        encoder_(encoder),
        catalog_(catalog),
        interactions_(interactions),
        store_(catalog),
        index_(catalog.dim),
        tracker_(tracker_options()),
        config_(demo_config(args)) {
    const auto start = Clock::now();
    index_.add(catalog.ids, catalog.embeddings);
    std::printf("index: %zu items, fp32, built in %.1f ms\n", index_.size(),
                elapsed_us(start) / 1000.0);
  }

  void replay_user(const DemoUser& user) {
    std::vector<Interaction> events;
    for (const Interaction& row : interactions_) {
      if (row.user == user.id && store_.contains(row.item)) events.push_back(row);
    }
    // Compared apart, since warm-up + shown may wrap around.
    if (user.warmup > events.size() || user.shown > events.size() - user.warmup) {
      throw Error(ErrorCode::InvalidArgument,
                  "--users: user " + std::to_string(user.id) + " has " +
                      std::to_string(events.size()) + " ratings, fewer than " +
                      std::to_string(user.warmup) + " + " + std::to_string(user.shown));
    }
    user_ = std::to_string(user.id);
    seen_.clear();
    set_popularity_prior(events[user.warmup].timestamp, user.id);
    start_recommender(events[user.warmup].timestamp, user.id);

    std::unordered_map<std::string, int> genres;
    for (std::size_t i = 0; i < user.warmup; ++i) {
      apply_rating(events[i]);
      for (const auto& genre : store_.item(events[i].item)->genres) ++genres[genre];
    }
    std::vector<std::pair<int, std::string>> top_genres;
    for (const auto& [genre, count] : genres) top_genres.emplace_back(-count, genre);
    std::sort(top_genres.begin(), top_genres.end());
    std::string genre_text;
    for (std::size_t i = 0; i < top_genres.size() && i < 4; ++i) {
      genre_text +=
          (i > 0 ? ", " : "") + top_genres[i].second + " " + std::to_string(-top_genres[i].first);
    }
    std::printf("\n%s\nuser %s: %zu ratings from %s. Replayed silently: the first %zu%s%s.\n",
                std::string(100, '=').c_str(), user_.c_str(), events.size(),
                utc_time(events.front().timestamp).substr(0, 10).c_str(), user.warmup,
                user.warmup > 0 ? " (genres: " : "",
                user.warmup > 0 ? (genre_text + ")").c_str() : "");
    if (user.warmup > 0) {
      show("after the warm-up", events[user.warmup - 1].timestamp, {}, &events[user.warmup]);
    }
    for (std::size_t i = user.warmup; i < user.warmup + user.shown; ++i) {
      const CatalogItem& item = *store_.item(events[i].item);
      char line[512];
      std::snprintf(line, sizeof line, "%s  rated %.1f  %s  [%s]",
                    utc_time(events[i].timestamp).c_str(), *events[i].rating, item.title.c_str(),
                    genres_of(item).c_str());
      const auto start = Clock::now();
      apply_rating(events[i]);
      const double update_us = elapsed_us(start);
      latencies_.update_us.push_back(update_us);
      const Interaction* next = i + 1 < events.size() ? &events[i + 1] : nullptr;
      show(line, events[i].timestamp, {.update_us = update_us}, next);
    }
    last_time_ = events[user.warmup + user.shown - 1].timestamp;
  }

  // A search by the last replayed user: encoded here (to time it), then one tracker event.
  void search(const std::string& text, std::int64_t seconds_later) {
    last_time_ += seconds_later;
    const std::string_view texts[] = {text};
    auto start = Clock::now();
    const std::vector<float> vector = encoder_.encode(texts);
    const double encode_us = elapsed_us(start);
    start = Clock::now();
    recommender_->observe(
        {.user = user_, .item_embedding = vector, .timestamp = last_time_, .action = "search"});
    const double update_us = elapsed_us(start);
    latencies_.encode_us.push_back(encode_us);
    latencies_.update_us.push_back(update_us);
    show(utc_time(last_time_) + "  search \"" + text + "\"", last_time_,
         {.update_us = update_us, .encode_us = encode_us}, nullptr);
    print_unknown_tokens(text);
  }

  void print_summary() const {
    std::printf(
        "\n%s\nlatency, median over the events shown: update %.1f us | recommend %.2f ms (%zu "
        "items, %d thread(s)) | encode a search %.1f ms\n",
        std::string(100, '=').c_str(), median(latencies_.update_us),
        median(latencies_.recommend_us) / 1000.0, index_.size(), threads(),
        median(latencies_.encode_us) / 1000.0);
    const RecommenderConfig& c = config_;
    std::printf(
        "\nHow to read this. Each rating updates the user's interests in the InterestTracker:\n"
        "short-term (half-life %.0f s), long-term (30 days), up to 4 distinct interests (7 days)\n"
        "and a negative one (1 day). A rating r weighs 0.5 r - 1.4 (5 -> 1.1, 3 -> 0.1, 2.5 or\n"
        "less: negative), a search 4. Recommender::recommend scores an unseen movie by the best\n"
        "over the interests of rank weight x cosine, where rank weight = kind weight (short-term\n"
        "%.1f, long-term %.1f, interests %.1f-%.1f by importance)%s,\n"
        "minus %.1f x the negative interest's weight x cosine with it, plus %.2f x log(1 + "
        "ratings\n"
        "the movie had from other users before)",
        args_.short_term_half_life, c.short_term, c.long_term, c.clusters_min, c.clusters,
        c.calibrate ? " / its best cosine with any unseen movie" : "", c.negative, c.prior);
    if (c.co_visitation > 0.0f) {
      std::printf(",\nplus %.2f x log(1 + the movie's co-visitation votes from the recent ratings)",
                  c.co_visitation);
    }
    std::printf(". 'from' names the interest that gave the score.\n");
  }

 private:
  struct EventTimes {
    double update_us = 0.0;
    double encode_us = -1.0;
  };

  int threads() const {
    return config_.threads > 0
               ? config_.threads
               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  InterestTrackerOptions tracker_options() const {
    InterestTrackerOptions options{.dim = catalog_.dim,
                                   .short_term_half_life_seconds = args_.short_term_half_life};
    // A MovieLens rating r in 0.5..5 weighs 0.5 * r - 1.4: 5 -> 1.1, 4 -> 0.6, 3 -> 0.1 and
    // 2.5 or less negative, so low ratings feed the negative interest.
    options.actions.push_back({"rate", -1.4f, 0.5f});
    options.item_store = &store_;
    return options;
  }

  void apply_rating(const Interaction& rating) {
    recommender_->observe({.user = user_,
                           .timestamp = rating.timestamp,
                           .item = rating.item,
                           .action = "rate",
                           .value = rating.rating});
    seen_.push_back(rating.item);
  }

  // Each movie's prior: log(1 + its ratings before `until` by other users), what a live system
  // would know of popularity at that moment.
  void set_popularity_prior(std::int64_t until, std::int64_t user) {
    std::unordered_map<std::int64_t, int> counts;
    for (const Interaction& row : interactions_) {
      if (row.timestamp < until && row.user != user) ++counts[row.item];
    }
    priors_.assign(catalog_.ids.size(), 0.0f);
    for (std::size_t row = 0; row < catalog_.ids.size(); ++row) {
      const auto found = counts.find(catalog_.ids[row]);
      if (found != counts.end()) priors_[row] = std::log1p(float(found->second));
    }
    index_.set_priors(catalog_.ids, priors_);
    prior_of_.clear();
    for (std::size_t row = 0; row < catalog_.ids.size(); ++row) {
      prior_of_[catalog_.ids[row]] = priors_[row];
    }
  }

  // A fresh Recommender for the next user. With co-visitation on, its graph first learns the
  // other users' ratings before `until`, each user's in time order, as a live service would have.
  void start_recommender(std::int64_t until, std::int64_t user) {
    recommender_ = std::make_unique<Recommender>(index_, tracker_, config_);
    CoVisitation* graph = recommender_->co_visitation();
    if (graph == nullptr) return;
    std::vector<const Interaction*> earlier;
    for (const Interaction& row : interactions_) {
      if (row.timestamp < until && row.user != user && store_.contains(row.item)) {
        earlier.push_back(&row);
      }
    }
    std::sort(earlier.begin(), earlier.end(), [](const Interaction* a, const Interaction* b) {
      return std::tie(a->user, a->timestamp) < std::tie(b->user, b->timestamp);
    });
    const std::size_t window = graph->options().pair_distance;
    std::vector<std::int64_t> previous;
    for (std::size_t i = 0; i < earlier.size(); ++i) {
      if (i > 0 && earlier[i]->user != earlier[i - 1]->user) previous.clear();
      graph->add(previous, earlier[i]->item, earlier[i]->timestamp);
      previous.push_back(earlier[i]->item);
      if (previous.size() > window) previous.erase(previous.begin());
    }
    const CoVisitationStats stats = graph->stats();
    std::printf(
        "co-visitation: %zu ratings of other users before the first shown event, %zu "
        "items, %zu edges\n",
        earlier.size(), stats.items, stats.edges);
  }

  // The interests, the top movies with the reason for each, and where `next` (the user's next
  // real rating, if any) ranks.
  void show(const std::string& title, std::int64_t now, EventTimes times, const Interaction* next) {
    const RecommendRequest request{.k = std::min(args_.top, index_.size()), .exclude = seen_};
    const auto start = Clock::now();
    recommender_->recommend(user_, now, request, result_);
    const double recommend_us = elapsed_us(start);
    if (times.update_us > 0.0) latencies_.recommend_us.push_back(recommend_us);
    const std::vector<Interest> interests = tracker_.interests(user_, now);

    std::printf("\n[user %s] %s\n", user_.c_str(), title.c_str());
    std::printf("  latency: ");
    if (times.encode_us >= 0.0) std::printf("encode %.1f ms | ", times.encode_us / 1000.0);
    if (times.update_us > 0.0) std::printf("update %.1f us | ", times.update_us);
    std::printf("recommend %.2f ms (%zu items, %zu seen excluded)\n", recommend_us / 1000.0,
                index_.size(), seen_.size());
    print_interests(interests);
    const bool co_visiting = config_.co_visitation > 0.0f;
    std::printf("  %-4s%-46s %6s  %-11s %6s %6s %6s%s\n", "top", "movie", "score", "from", "cosine",
                "-neg", "+pop", co_visiting ? "  +covis  co-visited with" : "");
    for (std::size_t i = 0; i < result_.items.size(); ++i) {
      const Recommendation& r = result_.items[i];
      const CatalogItem& item = *store_.item(r.item);
      const std::string from = r.signal == Signal::CoVisitation ? "co-visits"
                               : r.signal == Signal::Prior
                                   ? "popularity"
                                   : interest_label(interests, r.interest_index);
      std::printf("  %2zu  %s %6.3f  %-11s %6.3f %6.3f %6.3f", i + 1, fit(item.title, 46).c_str(),
                  r.score, from.c_str(), r.interest_match, 0.0f - r.negative_score, r.prior_score);
      if (co_visiting) {
        std::printf("  %6.3f  %s", r.co_visitation_score,
                    r.co_visited_with >= 0
                        ? shorten(store_.item(r.co_visited_with)->title, 36).c_str()
                        : "-");
      }
      std::printf("\n");
    }
    if (next != nullptr) print_next_rank(now, *next);
  }

  void print_interests(const std::vector<Interest>& interests) const {
    const auto recent = tracker_.recent_events(user_);
    std::printf(
        "  interests: tracker weight, rank weight (kind / best cosine), nearest recent movies\n");
    for (const RankedInterest& ranked : result_.interests) {
      const Interest& interest = interests.at(ranked.index);
      std::vector<std::pair<float, std::int64_t>> near;
      std::set<std::int64_t> done;
      for (const RecentEvent& event : recent) {
        if (event.item < 0 || !done.insert(event.item).second) continue;
        near.emplace_back(dot(interest.vector, store_.embedding(event.item)), event.item);
      }
      std::sort(near.begin(), near.end(), std::greater<>());
      std::string text;
      for (std::size_t i = 0; i < near.size() && i < 2; ++i) {
        char part[32];
        std::snprintf(part, sizeof part, " %.2f", near[i].first);
        text += (i > 0 ? ", " : "") + shorten(store_.item(near[i].second)->title, 36) + part;
      }
      char weights[64];
      if (ranked.kind == InterestKind::Negative) {
        std::snprintf(weights, sizeof weights, "-%.2f", ranked.weight);
      } else {
        std::snprintf(weights, sizeof weights, "%.2f (%.2f / %.2f)", ranked.weight,
                      ranked.kind_weight, ranked.best_match);
      }
      std::printf("    %-11s %6.2f  %-19s %s\n", interest_label(interests, ranked.index).c_str(),
                  ranked.tracker_weight, weights, text.c_str());
    }
  }

  // Says how much of a text the model cannot read: an English-only vocabulary turns most
  // Chinese characters into the unknown token, and the embedding then carries little meaning.
  void print_unknown_tokens(const std::string& text) const {
    const Tokenizer& tokenizer = encoder_.tokenizer();
    std::optional<std::int32_t> unknown = tokenizer.token_to_id("[UNK]");
    if (!unknown) unknown = tokenizer.token_to_id("<unk>");
    if (!unknown) return;
    const Encoding encoding = tokenizer.encode(text, {.add_special_tokens = false});
    const auto count = std::count(encoding.ids.begin(), encoding.ids.end(), *unknown);
    if (count == 0) return;
    std::printf(
        "  note: %td of the query's %zu tokens are unknown to this model's vocabulary; a\n"
        "  multilingual model (--model) would read it.\n",
        count, encoding.ids.size());
  }

  // Where the user's next real rating ranks among all unseen movies.
  void print_next_rank(std::int64_t now, const Interaction& next) const {
    const RecommendRequest request{.k = index_.size(), .exclude = seen_, .explain = false};
    const std::vector<Recommendation> all = recommender_->recommend(user_, now, request);
    const auto found = std::find_if(all.begin(), all.end(),
                                    [&](const Recommendation& r) { return r.item == next.item; });
    const CatalogItem& item = *store_.item(next.item);
    if (found == all.end()) {
      std::printf("  next rating (%.1f): %s, already seen\n", *next.rating, item.title.c_str());
      return;
    }
    std::printf("  next rating (%.1f): %s ranks %zu of %zu unseen\n", *next.rating,
                item.title.c_str(), std::size_t(found - all.begin()) + 1, all.size());
  }

  const DemoArgs& args_;
  const SequenceEncoder& encoder_;
  const CatalogEmbeddings& catalog_;
  const std::vector<Interaction>& interactions_;
  CatalogItemStore store_;
  ItemIndex index_;
  InterestTracker tracker_;
  RecommenderConfig config_;
  std::unique_ptr<Recommender> recommender_;
  RecommendResult result_;
  std::string user_;
  std::vector<std::int64_t> seen_;
  std::vector<float> priors_;
  std::unordered_map<std::int64_t, float> prior_of_;
  std::int64_t last_time_ = 0;
  Latencies latencies_;
};

void print_header(const ModelFolder& model, const SequenceEncoder& encoder, double load_ms) {
  const EncoderInfo& info = encoder.info();
  std::string cuda = cuda_built() ? "built, no device" : "not built";
  if (cuda_device_count() > 0) cuda = cuda_device_description(0);
  std::printf("nowrec %s | cpu kernels: %s | cuda: %s\n", version_string,
              std::string(active_cpu_kernels()).c_str(), cuda.c_str());
  std::printf(
      "model  %s\n       %s, %d layers, %d heads, dim %zu, max %zu tokens, %s pooling%s,"
      " vocab %zu; loaded in %.0f ms\n",
      model.path().c_str(), info.model_type.c_str(), info.layers, info.heads, info.dim,
      info.max_length, std::string(pooling_mode_name(info.pooling.mode)).c_str(),
      info.pooling.normalize ? " + normalize" : "", encoder.tokenizer().vocab_size(), load_ms);
}

int run_demo(const DemoArgs& args) {
  const std::vector<DemoUser> users = parse_users(args.users);
  if (args.top == 0) throw Error(ErrorCode::InvalidArgument, "--top must be positive");
  const std::filesystem::path data = resolve_data_dir(args.data);
  // Every event is weighed by its rating, which load_interactions leaves optional: ratings
  // without one are refused here, before the model loads and anything is printed.
  data::CsvReader(data / "ratings.csv").column("rating");
  auto start = Clock::now();
  const std::filesystem::path model_dir = resolve_model_dir(args.model);
  const ModelFolder model = ModelFolder::load(model_dir);
  const SequenceEncoder encoder = SequenceEncoder::load(model, {.threads = args.threads});
  print_header(model, encoder, elapsed_us(start) / 1000.0);

  const std::filesystem::path cache = resolve_cache_dir(args.cache);
  start = Clock::now();
  const CatalogSource source{.data_dir = data, .model_dir = model_dir};
  std::optional<SequenceEncoder> build_encoder;
  if (args.build_threads != args.threads && !catalog_cache_is_current(source, encoder, cache)) {
    build_encoder = SequenceEncoder::load(model, {.threads = args.build_threads});
  }
  const CatalogEmbeddings catalog = load_or_build_catalog(
      source, build_encoder ? *build_encoder : encoder, cache, {.log_prefix = "nowrec demo: "});
  if (catalog.reused) {
    std::printf("catalog: %zu movies from %s, embeddings reused from %s in %.0f ms\n",
                catalog.ids.size(), data.c_str(), cache.c_str(), elapsed_us(start) / 1000.0);
  } else {
    std::printf("catalog: %zu movies from %s embedded in %.1f s (%.0f texts/s), cached in %s\n",
                catalog.ids.size(), data.c_str(), catalog.embed_seconds,
                double(catalog.ids.size()) / catalog.embed_seconds, cache.c_str());
  }
  std::printf("  item text, e.g.: %s\n", catalog.items.front().text.c_str());
  start = Clock::now();
  const std::vector<Interaction> interactions = load_interactions(data / "ratings.csv");
  std::printf("ratings: %zu read in %.0f ms\n", interactions.size(), elapsed_us(start) / 1000.0);

  Demo demo(args, encoder, catalog, interactions);
  for (const DemoUser& user : users) demo.replay_user(user);
  // Half an hour apart, so each search leads the short-term interest on its own.
  if (!args.english.empty()) demo.search(args.english, 1800);
  if (!args.chinese.empty()) demo.search(args.chinese, 1800);
  demo.print_summary();
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* command = app.add_subcommand(
      "demo",
      "Replay real MovieLens users through the InterestTracker and show, after each event, the "
      "interests, the top 10 and why");
  command->add_option("--model", args->model,
                      "Model folder (default: $NOWREC_MODEL or the installed all-MiniLM-L6-v2)");
  command->add_option("--data", args->data,
                      "MovieLens-style folder: movies.csv, ratings.csv, tags.csv (default: the "
                      "carried examples/data/ml-latest-small)");
  command->add_option("--cache", args->cache,
                      "Folder for the catalog embeddings (default: catalog-cache/ in the build "
                      "folder); reused while the data and model are unchanged");
  command->add_option("--users", args->users,
                      "user:warm-up:shown,... (default " + args->users + ")");
  command->add_option("--english", args->english, "English search after the last user ('' none)");
  command->add_option("--chinese", args->chinese, "Chinese search after that ('' none)");
  command->add_option("--prior-weight", args->prior_weight,
                      "Weight of the popularity prior (default 0.02; 0 turns it off)");
  command->add_option("--config", args->config,
                      "RecommenderConfig JSON (docs/recommender.md) in place of the demo's blend; "
                      "a co_visitation weight above 0 builds the graph from the other users' "
                      "earlier ratings (--prior-weight and --threads are then the file's)");
  command->add_option("--short-term-half-life", args->short_term_half_life, "Seconds (default 60)");
  command->add_option("--top", args->top, "Recommendations shown (default 10)");
  command
      ->add_option("--threads", args->threads,
                   "Threads of each event's encode and rank (default 1; 0: all cores)")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--build-threads", args->build_threads,
                   "Threads to embed the catalog when it is not cached (default 0: all cores)")
      ->check(CLI::NonNegativeNumber);
  command->callback([args, &exit_status] { exit_status = run_demo(*args); });
}

}  // namespace nowrec::cli

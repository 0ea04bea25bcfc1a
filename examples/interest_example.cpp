// One MovieLens user's interests through the C++ API: catalog -> embeddings -> ItemIndex ->
// InterestTracker events through a Recommender -> explained top 10, then a search that turns the
// top 10 at once.
// Usage: interest_example MODEL_DIR DATA_DIR [--limit N] [--user ID]   (DATA_DIR: movies.csv,
// tags.csv, ratings.csv as in examples/data/ml-latest-small; --limit: embed the first N movies)
#include <nowrec/eval/dataset.hpp>
#include <nowrec/nowrec.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: interest_example MODEL_DIR DATA_DIR [--limit N] [--user ID]\n");
    return 2;
  }
  std::size_t limit = 0;
  std::int64_t user_id = 1;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--limit") limit = std::stoul(argv[i + 1]);
    if (std::string(argv[i]) == "--user") user_id = std::stoll(argv[i + 1]);
  }
  try {
    const nowrec::SequenceEncoder encoder = nowrec::SequenceEncoder::load(argv[1]);
    const std::filesystem::path data = argv[2];
    auto items = nowrec::load_item_catalog(data / "movies.csv", data / "tags.csv");
    if (limit > 0 && limit < items.size()) items.resize(limit);

    // Embed every item's text ("Title (year). Genres: ... Tags: ...") and index it.
    std::vector<std::string_view> texts;
    std::vector<std::int64_t> ids;
    for (const auto& item : items) texts.push_back(item.text), ids.push_back(item.id);
    const std::vector<float> vectors = encoder.encode(texts);
    nowrec::ItemIndex index(encoder.dim());
    index.add(ids, vectors);
    const auto row_of = [&](std::int64_t id) { return std::find(ids.begin(), ids.end(), id); };
    std::printf("embedded and indexed %zu movies\n", ids.size());

    // The tracker encodes search texts itself; a rating r weighs 0.5 r - 1.4 (low: negative).
    nowrec::InterestTrackerOptions options{
        .dim = encoder.dim(), .short_term_half_life_seconds = 600, .encoder = &encoder};
    options.actions.push_back({"rate", -1.4f, 0.5f});
    nowrec::InterestTracker tracker(options);
    // Rank by what the user wants now (short-term), the stable picture at half weight, minus
    // what they rated low; the items rated are never recommended again.
    nowrec::RecommenderConfig config;
    config.short_term = 1.0f;
    config.long_term = 0.5f;
    config.negative = 0.5f;
    nowrec::Recommender recommender(index, tracker, config);
    const std::string user = std::to_string(user_id);
    std::vector<std::int64_t> seen;
    std::int64_t now = 0;
    for (const auto& rating : nowrec::load_interactions(data / "ratings.csv")) {
      if (rating.user != user_id || row_of(rating.item) == ids.end() || seen.size() == 20) continue;
      const auto row = std::size_t(row_of(rating.item) - ids.begin());
      nowrec::InterestEvent event{.user = user, .timestamp = rating.timestamp, .action = "rate"};
      event.item_embedding = std::span(vectors).subspan(row * encoder.dim(), encoder.dim());
      event.item = rating.item;
      event.value = rating.rating;
      recommender.observe(event);
      seen.push_back(rating.item);
      now = rating.timestamp;
    }
    std::printf("user %s: %zu ratings fed to the tracker\n", user.c_str(), seen.size());

    const auto print_top = [&](const char* title) {
      const char* kinds[] = {"short-term", "long-term", "cluster", "predicted", "negative"};
      std::printf("\n%s\n  interests:", title);
      for (const auto& interest : tracker.interests(user, now)) {
        std::printf(" %s %.2f;", kinds[int(interest.kind)], interest.weight);
      }
      std::printf("\n");
      for (const auto& item : recommender.recommend(user, now, {.k = 10})) {
        const char* why = item.interest_index == nowrec::Recommendation::npos
                              ? "-"
                              : kinds[int(item.interest_kind)];
        std::printf("  %.3f  %-10s  %s\n", item.score, why,
                    items[row_of(item.item) - ids.begin()].title.c_str());
      }
    };
    print_top("top 10 after the ratings");
    now += 1800;  // half an hour later a search (weight 4) outweighs the decayed ratings
    const std::string query = "something like a space adventure with robots";
    recommender.observe({.user = user, .timestamp = now, .action = "search", .text = query});
    print_top(("top 10 after searching \"" + query + "\"").c_str());
    return 0;
  } catch (const nowrec::Error& error) {
    std::fprintf(stderr, "interest_example: %s\n", error.what());
    return 1;
  }
}

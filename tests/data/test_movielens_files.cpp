// The carried ml-latest-small files read by load_item_catalog and load_interactions.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "nowrec/eval/dataset.hpp"
#include "test_support.hpp"

namespace {

std::filesystem::path movielens_dir() {
  return nowrec::test::env_path("NOWREC_TEST_DATA") / "ml-latest-small";
}

const nowrec::CatalogItem& find_item(const std::vector<nowrec::CatalogItem>& items,
                                     std::int64_t id) {
  const auto found = std::find_if(items.begin(), items.end(),
                                  [id](const nowrec::CatalogItem& item) { return item.id == id; });
  REQUIRE(found != items.end());
  return *found;
}

}  // namespace

TEST_CASE("ml-latest-small catalog: every movie, quoted titles, genres and most used tags") {
  const auto dir = movielens_dir();
  const auto items = nowrec::load_item_catalog(dir / "movies.csv", dir / "tags.csv");
  REQUIRE(items.size() == 9742);
  CHECK(items.front().id == 1);
  CHECK(items.back().id == 193609);  // file order, not sorted by id

  const auto& toy_story = items.front();
  CHECK(toy_story.title == "Toy Story (1995)");
  CHECK(toy_story.genres ==
        std::vector<std::string>{"Adventure", "Animation", "Children", "Comedy", "Fantasy"});
  CHECK(toy_story.tags == std::vector<std::string>{"pixar", "fun"});
  CHECK(toy_story.text ==
        "Toy Story (1995). Genres: Adventure, Animation, Children, Comedy, Fantasy. "
        "Tags: pixar, fun.");

  // A comma inside quotes, and a doubled quote inside quotes.
  CHECK(find_item(items, 11).title == "American President, The (1995)");
  CHECK(find_item(items, 7789).title == "11'09\"01 - September 11 (2002)");
  CHECK(find_item(items, 7789).text ==
        "11'09\"01 - September 11 (2002). Genres: Drama. Tags: terrorism.");

  // Star Wars IV: "classic sci-fi" and "sci-fi" are applied 3 times each (alphabetical between
  // them), then four tags twice, then the rest once; ten kept by default.
  const auto& star_wars = find_item(items, 260);
  CHECK(star_wars.tags == std::vector<std::string>{"classic sci-fi", "sci-fi", "classic", "epic",
                                                   "space action", "star wars", "action",
                                                   "darth vader", "engrossing adventure",
                                                   "great soundtrack"});
  // "(no genres listed)" is no genre.
  const auto& no_genres = find_item(items, 114335);
  CHECK(no_genres.genres.empty());
  CHECK(no_genres.text == "La cravate (1957).");

  std::set<std::int64_t> ids;
  for (const auto& item : items) {
    ids.insert(item.id);
    CHECK(item.tags.size() <= 10);
    CHECK(item.text == nowrec::item_text(item));
  }
  CHECK(ids.size() == items.size());
}

TEST_CASE("ml-latest-small catalog: max_tags and no tags file") {
  const auto dir = movielens_dir();
  const auto three =
      nowrec::load_item_catalog(dir / "movies.csv", dir / "tags.csv", {.max_tags = 3});
  CHECK(find_item(three, 260).tags ==
        std::vector<std::string>{"classic sci-fi", "sci-fi", "classic"});
  const auto none = nowrec::load_item_catalog(dir / "movies.csv");
  REQUIRE(none.size() == 9742);
  CHECK(none.front().tags.empty());
  CHECK(none.front().text ==
        "Toy Story (1995). Genres: Adventure, Animation, Children, Comedy, Fantasy.");
}

TEST_CASE("ml-latest-small ratings: every row, 610 users, ordered by (timestamp, user, item)") {
  const auto rows = nowrec::load_interactions(movielens_dir() / "ratings.csv");
  REQUIRE(rows.size() == 100836);
  std::set<std::int64_t> users;
  for (const auto& row : rows) users.insert(row.user);
  CHECK(users.size() == 610);
  CHECK(std::is_sorted(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.timestamp, a.user, a.item) < std::tie(b.timestamp, b.user, b.item);
  }));
  CHECK(rows.front().user == 429);
  CHECK(rows.front().item == 22);
  CHECK(rows.front().timestamp == 828124615);
  REQUIRE(rows.front().rating.has_value());
  CHECK(*rows.front().rating == 4.0f);
  CHECK(rows.back().user == 514);
  CHECK(rows.back().item == 162);
  CHECK(rows.back().timestamp == 1537799250);
  for (const auto& row : rows) {
    REQUIRE(row.rating.has_value());
    CHECK((*row.rating >= 0.5f && *row.rating <= 5.0f));
  }
}

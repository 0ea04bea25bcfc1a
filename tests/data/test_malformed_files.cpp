// Small hand-written files: CSV quoting, tag ordering, sort order, and errors naming file:line.
#include <doctest/doctest.h>

#include <string>

#include "nowrec/error.hpp"
#include "nowrec/eval/dataset.hpp"
#include "test_support.hpp"

namespace {

using nowrec::test::TempDir;
using nowrec::test::write_file;

// Runs `load` and returns the Error's code and message; fails the test when nothing is thrown.
template <typename Load>
std::pair<nowrec::ErrorCode, std::string> error_of(Load load) {
  try {
    load();
  } catch (const nowrec::Error& error) {
    return {error.code(), error.what()};
  }
  FAIL("no nowrec::Error thrown");
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

constexpr const char* kMovies =
    "movieId,title,genres\r\n"
    "10,\"Comma, The (1999)\",Comedy|Drama\r\n"
    "\r\n"
    "3,\"Quote \"\"Inside\"\" (2001)\",(no genres listed)\r\n"
    "7,\"Two\nLines (2002)\",\r\n";

}  // namespace

TEST_CASE("catalog: quoting, CRLF, multi-line fields, tag counting and ordering") {
  TempDir dir;
  write_file(dir.path() / "movies.csv", kMovies);
  write_file(dir.path() / "tags.csv",
             "userId,movieId,tag,timestamp\n"
             "1,10,  Zebra ,5\n"
             "2,10,apple,6\n"
             "3,10,ZEBRA,7\n"
             "1,10,mango,8\n"
             "1,10,\"apple\",9\n"
             "1,10,   ,9\n"
             "1,3,\"dark, funny\",10\n");
  const auto items = nowrec::load_item_catalog(dir.path() / "movies.csv", dir.path() / "tags.csv",
                                               {.max_tags = 2});
  REQUIRE(items.size() == 3);
  CHECK(items[0].id == 10);
  CHECK(items[0].title == "Comma, The (1999)");
  CHECK(items[0].genres == std::vector<std::string>{"Comedy", "Drama"});
  // apple and zebra twice each (ties alphabetical), mango once and cut by max_tags.
  CHECK(items[0].tags == std::vector<std::string>{"apple", "zebra"});
  CHECK(items[0].text == "Comma, The (1999). Genres: Comedy, Drama. Tags: apple, zebra.");
  CHECK(items[1].title == "Quote \"Inside\" (2001)");
  CHECK(items[1].genres.empty());
  CHECK(items[1].text == "Quote \"Inside\" (2001). Tags: dark, funny.");
  CHECK(items[2].title == "Two\nLines (2002)");
  CHECK(items[2].genres.empty());
  CHECK(items[2].tags.empty());
}

TEST_CASE("item_text leaves out empty parts") {
  nowrec::CatalogItem item{.id = 1, .title = "Alone (2000)"};
  CHECK(nowrec::item_text(item) == "Alone (2000).");
  item.tags = {"quiet"};
  CHECK(nowrec::item_text(item) == "Alone (2000). Tags: quiet.");
  item.genres = {"Drama", "War"};
  CHECK(nowrec::item_text(item) == "Alone (2000). Genres: Drama, War. Tags: quiet.");
}

TEST_CASE("interactions: time order, ties by user then item, optional rating column") {
  TempDir dir;
  write_file(dir.path() / "ratings.csv",
             "userId,movieId,rating,timestamp\n"
             "2,5,4.5,100\n"
             "1,9,3,100\n"
             "1,4,1.5,100\n"
             "3,1,5,50\n");
  const auto rows = nowrec::load_interactions(dir.path() / "ratings.csv");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].user == 3);
  CHECK(rows[1].user == 1);
  CHECK(rows[1].item == 4);
  CHECK(*rows[1].rating == 1.5f);
  CHECK(rows[2].item == 9);
  CHECK(rows[3].user == 2);

  write_file(dir.path() / "views.csv", "timestamp,movieId,userId\n7,2,1\n3,1,1\n");
  const auto views = nowrec::load_interactions(dir.path() / "views.csv");
  REQUIRE(views.size() == 2);
  CHECK(views[0].item == 1);
  CHECK(views[0].timestamp == 3);
  CHECK_FALSE(views[0].rating.has_value());
}

TEST_CASE("malformed files give InvalidArgument naming file and line") {
  TempDir dir;
  const auto movies = dir.path() / "movies.csv";
  const auto tags = dir.path() / "tags.csv";
  const auto ratings = dir.path() / "ratings.csv";
  const auto expect = [&](auto load, const std::filesystem::path& file, const std::string& where,
                          const std::string& what) {
    const auto [code, message] = error_of(load);
    CHECK(code == nowrec::ErrorCode::InvalidArgument);
    CHECK_MESSAGE(contains(message, file.string() + ":" + where), message);
    CHECK_MESSAGE(contains(message, what), message);
  };
  const auto load_catalog = [&] { nowrec::load_item_catalog(movies, tags); };
  const auto load_ratings = [&] { nowrec::load_interactions(ratings); };
  write_file(tags, "userId,movieId,tag,timestamp\n");

  SUBCASE("missing column") {
    write_file(movies, "movieId,genres\n1,Drama\n");
    expect(load_catalog, movies, "1:", "no column 'title'");
    write_file(ratings, "userId,rating,timestamp\n1,4,5\n");
    expect(load_ratings, ratings, "1:", "no column 'movieId'");
  }
  SUBCASE("invalid UTF-8") {
    // A lone continuation byte, then a truncated sequence, each after valid non-ASCII text.
    write_file(movies,
               "movieId,title,genres\n1,Am\xC3\xA9lie (2001),Drama\n2,B\x80 (2001),Drama\n");
    expect(load_catalog, movies, "3:", "byte 4 of the line is not valid UTF-8");
    write_file(movies, "movieId,title,genres\n1,\xE6\x88 (2001),Drama\n");
    expect(load_catalog, movies, "2:", "byte 3 of the line is not valid UTF-8");
    // On the first line, past the eight-byte ASCII skip.
    write_file(movies, "movieId,title\xED\xA0\x80,genres\n1,A (2001),Drama\n");
    expect(load_catalog, movies, "1:", "byte 14 of the line is not valid UTF-8");
  }
  SUBCASE("bad number") {
    write_file(movies, "movieId,title,genres\n1,A (2000),Drama\nx2,B (2001),Drama\n");
    expect(load_catalog, movies, "3:", "column 'movieId': 'x2' is not an integer");
    write_file(ratings, "userId,movieId,rating,timestamp\n1,2,4.0,10\n1,3,4.0,1e\n");
    expect(load_ratings, ratings, "3:", "column 'timestamp'");
    write_file(ratings, "userId,movieId,rating,timestamp\n1,2,four,10\n");
    expect(load_ratings, ratings, "2:", "column 'rating': 'four' is not a number");
    write_file(ratings, "userId,movieId,rating,timestamp\n1,,4,10\n");
    expect(load_ratings, ratings, "2:", "column 'movieId'");
  }
  SUBCASE("NaN or infinite rating") {
    write_file(ratings, "userId,movieId,rating,timestamp\n1,2,4.0,10\n\n1,3,nan,11\n");
    expect(load_ratings, ratings, "4:", "'nan' is not a finite number");
    write_file(ratings, "userId,movieId,rating,timestamp\n1,3,inf,11\n");
    expect(load_ratings, ratings, "2:", "not a finite number");
  }
  SUBCASE("duplicate item id") {
    write_file(movies, "movieId,title,genres\n1,A (2000),Drama\n2,B,Drama\n1,C (2002),Drama\n");
    expect(load_catalog, movies, "4:", "item 1 is repeated (first on line 2)");
  }
  SUBCASE("tag for an unknown item") {
    write_file(movies, "movieId,title,genres\n1,A (2000),Drama\n");
    write_file(tags, "userId,movieId,tag,timestamp\n5,1,fine,3\n5,99,lost,4\n");
    expect(load_catalog, tags, "3:", "item 99 is not in the items file");
  }
  SUBCASE("wrong field count, broken quotes, empty title") {
    write_file(movies, "movieId,title,genres\n1,A (2000)\n");
    expect(load_catalog, movies, "2:", "the record has 2 fields, the header has 3");
    write_file(movies, "movieId,title,genres\n1,\"A (2000)\"x,Drama\n");
    expect(load_catalog, movies, "2:", "text after the closing quote");
    write_file(movies, "movieId,title,genres\n1,A (2000),Drama\n2,\"B (2001),Drama\n");
    expect(load_catalog, movies, "3:", "not closed");
    write_file(movies, "movieId,title,genres\n1,,Drama\n");
    expect(load_catalog, movies, "2:", "empty title");
    write_file(movies, "");
    expect(load_catalog, movies, "", "empty file");
  }
}

TEST_CASE("unreadable files give Io") {
  TempDir dir;
  const auto [code, message] =
      error_of([&] { nowrec::load_interactions(dir.path() / "missing.csv"); });
  CHECK(code == nowrec::ErrorCode::Io);
  CHECK(contains(message, "missing.csv"));
  write_file(dir.path() / "movies.csv", "movieId,title,genres\n1,A,Drama\n");
  const auto [tags_code, tags_message] = error_of(
      [&] { nowrec::load_item_catalog(dir.path() / "movies.csv", dir.path() / "no_tags.csv"); });
  CHECK(tags_code == nowrec::ErrorCode::Io);
  CHECK(contains(tags_message, "no_tags.csv"));
}

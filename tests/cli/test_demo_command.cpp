// `nowrec demo` on a small MovieLens-style folder: users replayed, interests and reasons shown,
// a search turns the recommendations at once, the catalog cache is reused on the second run.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "test_support.hpp"

namespace {

std::string cli() { return nowrec::test::env_path("NOWREC_CLI").string(); }

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_data(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  nowrec::test::write_file(dir / "movies.csv",
                           "movieId,title,genres\n"
                           "1,Toy Story (1995),Adventure|Animation|Children|Comedy\n"
                           "2,Finding Nemo (2003),Adventure|Animation|Children\n"
                           "3,\"Incredibles, The (2004)\",Action|Adventure|Animation\n"
                           "4,Notting Hill (1999),Comedy|Romance\n"
                           "5,Pride & Prejudice (2005),Drama|Romance\n"
                           "6,Love Actually (2003),Comedy|Drama|Romance\n"
                           "7,Robots (2005),Adventure|Animation|Sci-Fi\n"
                           "8,Shining (1980),Horror\n"
                           "9,Up (2009),Adventure|Animation|Drama\n"
                           "10,Emma (1996),Comedy|Drama|Romance\n");
  nowrec::test::write_file(dir / "tags.csv",
                           "userId,movieId,tag,timestamp\n"
                           "1,7,robots,100\n2,7,space,101\n1,1,pixar,102\n");
  nowrec::test::write_file(dir / "ratings.csv",
                           "userId,movieId,rating,timestamp\n"
                           "1,1,5.0,1000\n1,2,4.5,1010\n1,3,4.0,1020\n1,8,1.0,1030\n"
                           "2,4,5.0,1000\n2,5,4.5,1015\n2,6,4.0,1030\n2,10,3.0,1040\n");
}

bool says(const std::string& output, const std::string& part) {
  return output.find(part) != std::string::npos;
}

// `nowrec demo` on the test model, the data in `data` and the catalog cache in `cache`, ending
// in a space for the options that follow.
std::string demo(const std::filesystem::path& data, const std::filesystem::path& cache) {
  return cli() + " demo --model '" + nowrec::test::model_dir().string() + "' --data '" +
         data.string() + "' --cache '" + cache.string() + "' ";
}

}  // namespace

TEST_CASE("demo: replayed users, explained recommendations, a search, the cache reused") {
  nowrec::test::TempDir dir;
  const auto data = dir.path() / "data";
  const auto cache = dir.path() / "cache";
  const auto out = dir.path() / "out.txt";
  const auto err = dir.path() / "err.txt";
  write_data(data);
  const std::string command = demo(data, cache) +
                              "--users 1:1:3,2:2:1 --top 3 --english 'robots in space'"
                              " --chinese '' >'" +
                              out.string() + "' 2>'" + err.string() + "'";
  REQUIRE(run(command) == 0);
  std::string output = nowrec::test::read_file(out);
  CAPTURE(output);
  CHECK(says(output, "catalog: 10 movies"));
  CHECK(says(output, "embedded in"));
  CHECK(says(output, "user 1: 4 ratings"));
  CHECK(says(output, "[user 1] after the warm-up"));
  CHECK(says(output, "rated 4.5  Finding Nemo (2003)"));
  // The 1-star rating of Shining feeds the negative interest.
  CHECK(says(output, "rated 1.0  Shining (1980)"));
  CHECK(says(output, "    negative "));
  CHECK(says(output, "[user 2] after the warm-up"));
  CHECK(says(output, "next rating (4.0): Love Actually (2003) ranks"));
  CHECK(says(output, "short-term"));
  CHECK(says(output, "update "));
  // Right after the search, its movie leads, scored through the short-term interest.
  const auto search = output.find("search \"robots in space\"");
  REQUIRE(search != std::string::npos);
  CHECK(says(output.substr(search), "encode "));
  const auto first = output.find("   1  ", search);
  REQUIRE(first != std::string::npos);
  CHECK(output.substr(first, 80).find("Robots (2005)") != std::string::npos);
  CHECK(says(output, "latency, median over the events shown"));

  REQUIRE(run(command) == 0);
  output = nowrec::test::read_file(out);
  CHECK(says(output, "embeddings reused from"));
}

TEST_CASE("demo: bad arguments fail with a message") {
  nowrec::test::TempDir dir;
  const auto data = dir.path() / "data";
  write_data(data);
  const auto err = dir.path() / "err.txt";
  const std::string base = demo(data, dir.path() / "cache");
  CHECK(run(base + "--users 1:9:9 >/dev/null 2>'" + err.string() + "'") != 0);
  CHECK(says(nowrec::test::read_file(err), "user 1 has 4 ratings"));
  CHECK(run(base + "--users 1-2 >/dev/null 2>'" + err.string() + "'") != 0);
  CHECK(says(nowrec::test::read_file(err), "--users: '1-2' is not user:warm-up:shown"));
  CHECK(run(cli() + " demo --data '" + (dir.path() / "none").string() + "' --cache '" +
            (dir.path() / "cache").string() + "' >/dev/null 2>'" + err.string() + "'") != 0);
  CHECK(says(nowrec::test::read_file(err), "ratings.csv"));
}

TEST_CASE("demo --config: a RecommenderConfig with co-visitation; a bad file names the field") {
  nowrec::test::TempDir dir;
  const auto data = dir.path() / "data";
  write_data(data);
  // A third user who rated 1 then 2, before user 1's shown events: the graph pairs them.
  nowrec::test::write_file(data / "ratings.csv", nowrec::test::read_file(data / "ratings.csv") +
                                                     "3,1,5.0,500\n3,2,5.0,510\n3,7,5.0,520\n");
  const auto config = dir.path() / "recommender.json";
  nowrec::test::write_file(config,
                           "{\"short_term\": 1.0, \"calibrate\": true, \"co_visitation\": 0.5, "
                           "\"co_visitation_options\": {\"pair_distance\": 3, \"voters\": 2}}");
  const auto out = dir.path() / "out.txt";
  const auto err = dir.path() / "err.txt";
  const std::string base = demo(data, dir.path() / "cache") +
                           "--users 1:1:2 --top 3 --english '' --chinese '' --config '";
  REQUIRE(run(base + config.string() + "' >'" + out.string() + "' 2>'" + err.string() + "'") == 0);
  const std::string output = nowrec::test::read_file(out);
  CAPTURE(output);
  // The ratings before user 1's first shown event (1010) teach the graph: user 3's three and
  // user 2's first.
  CHECK(says(output, "co-visitation: 4 ratings of other users"));
  CHECK(says(output, "+covis  co-visited with"));
  // After Toy Story, user 3's Robots is co-visited with it.
  const auto robots = output.find("Robots (2005)");
  REQUIRE(robots != std::string::npos);
  CHECK(says(output.substr(robots, 120), "Toy Story (1995)"));

  nowrec::test::write_file(config, "{\"co_visitation\": -1}");
  CHECK(run(base + config.string() + "' >/dev/null 2>'" + err.string() + "'") != 0);
  CHECK(says(nowrec::test::read_file(err), "co_visitation"));
}

TEST_CASE("demo --users: a sign, junk or counts beyond the user's ratings are refused") {
  nowrec::test::TempDir dir;
  const auto data = dir.path() / "data";
  write_data(data);
  const auto err = dir.path() / "err.txt";
  const std::string base = demo(data, dir.path() / "cache") + "--english '' --chinese '' ";
  const auto fails_saying = [&](const std::string& users, const std::string& message) {
    CHECK(run(base + "--users '" + users + "' >/dev/null 2>'" + err.string() + "'") == 2);
    const std::string said = nowrec::test::read_file(err);
    CAPTURE(said);
    CHECK(says(said, message));
  };
  fails_saying("1:-1:2", "--users: '1:-1:2': warm-up '-1' is not");
  fails_saying("2:1:1,1:1:-2", "--users: '1:1:-2': shown '-2' is not");
  fails_saying("1:+1:2", "--users: '1:+1:2': warm-up '+1' is not");
  fails_saying("1: 1:2", "--users: '1: 1:2': warm-up ' 1' is not");
  fails_saying("x:1:2", "--users: 'x:1:2': user 'x' is not");
  fails_saying("1:1:2:3", "--users: '1:1:2:3' is not user:warm-up:shown");
  fails_saying("1:1:0", "--users: '1:1:0': shown must be positive");
  // Counts whose sum wraps around are still more than the user's 4 ratings.
  fails_saying("1:18446744073709551615:2", "user 1 has 4 ratings");
  fails_saying("1:2:18446744073709551615", "user 1 has 4 ratings");
  fails_saying("1:4:1", "user 1 has 4 ratings");
  fails_saying("1:18446744073709551616:1", "warm-up '18446744073709551616' is too large");
}

TEST_CASE("demo: ratings without a rating column are refused before anything is printed") {
  nowrec::test::TempDir dir;
  const auto data = dir.path() / "data";
  write_data(data);
  nowrec::test::write_file(data / "ratings.csv",
                           "userId,movieId,timestamp\n1,1,1000\n1,2,1010\n1,3,1020\n");
  const auto out = dir.path() / "out.txt";
  const auto err = dir.path() / "err.txt";
  CHECK(run(demo(data, dir.path() / "cache") + "--users 1:1:2 --english '' --chinese '' >'" +
            out.string() + "' 2>'" + err.string() + "'") == 2);
  const std::string said = nowrec::test::read_file(err);
  CAPTURE(said);
  CHECK(says(said, (data / "ratings.csv").string() + ":1: the header has no column 'rating'"));
  CHECK(nowrec::test::read_file(out).empty());
}

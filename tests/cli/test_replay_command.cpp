// `nowrec replay` end to end on tests/fixtures/replay: the results JSON (shared schema, values
// worked out in tests/replay/test_protocols.cpp), the streaming protocol, the text method and
// bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

std::string cli() { return nowrec::test::env_path("NOWREC_CLI").string(); }
fs::path fixture() { return nowrec::test::fixtures_dir() / "replay"; }

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs `nowrec replay --data <data> <extra>`, its stderr into `log`.
int replay(const fs::path& data, const std::string& extra, const fs::path& log) {
  return run(cli() + " replay --data '" + data.string() + "' " + extra + " >/dev/null 2>'" +
             log.string() + "'");
}

double gain(double rank) { return 1.0 / std::log2(rank + 1); }

}  // namespace

TEST_CASE("replay: leave-one-out baselines write the shared results schema") {
  nowrec::test::TempDir dir;
  const fs::path out = dir.path() / "loo.json";
  REQUIRE(replay(fixture(), "--methods popular,cooccurrence --out '" + out.string() + "'",
                 dir.path() / "log") == 0);
  const auto document = nlohmann::json::parse(nowrec::test::read_file(out));
  CHECK(document["protocol"] == "leave_one_out");
  CHECK(document["dataset"] == "replay");
  CHECK(document["catalog_items"] == 6);
  CHECK(document["users"] == 3);
  REQUIRE(document["results"].size() == 2);
  const auto& popular = document["results"][0];
  CHECK(popular["method"] == "popular");
  CHECK(popular["cases"] == 3);
  // Every window covers the fixture's 330 seconds, so all tie and the first (1 day) is kept.
  CHECK(popular["settings"]["window_days"] == 1.0);
  CHECK(popular["ndcg@10"].get<double>() == doctest::Approx((gain(3) + gain(4) + gain(1)) / 3));
  CHECK(popular["mrr"].get<double>() == doctest::Approx((1.0 / 3 + 1.0 / 4 + 1.0) / 3));
  CHECK(popular["hr@10"].get<double>() == doctest::Approx(1.0));
  CHECK(popular["coverage@10"].get<double>() == doctest::Approx(5.0 / 6));
  CHECK(popular["cold_start"]["cases"] == 2);
  CHECK(popular["cold_start"]["ndcg@10"].get<double>() == doctest::Approx((gain(3) + gain(4)) / 2));
  CHECK(popular["latency_ms"]["count"] == 3);
  CHECK(popular["cpu_ms"]["count"] == 3);
  CHECK(popular["validation"]["ndcg@10"].get<double>() == doctest::Approx(1.0));
  CHECK(popular["tuning"].size() == 6);
  CHECK(document["results"][1]["method"] == "cooccurrence");
}

TEST_CASE("replay: the streaming protocol predicts each event from its user's second on") {
  nowrec::test::TempDir dir;
  const fs::path out = dir.path() / "stream.json";
  REQUIRE(replay(fixture(), "--protocol streaming --methods popular --out '" + out.string() + "'",
                 dir.path() / "log") == 0);
  const auto document = nlohmann::json::parse(nowrec::test::read_file(out));
  CHECK(document["protocol"] == "streaming");
  CHECK(document["users"] == 4);
  const auto& popular = document["results"][0];
  CHECK(popular["cases"] == 9);
  CHECK(popular["ndcg@10"].get<double>() == doctest::Approx((6 + gain(3) + gain(4) + gain(3)) / 9));
  CHECK(popular["cold_start"]["cases"] == 3);
}

TEST_CASE("replay: the text method ranks with the tracker and builds the catalog cache") {
  nowrec::test::TempDir dir;
  const fs::path out = dir.path() / "text.json";
  const fs::path cache = dir.path() / "catalog";
  REQUIRE(replay(fixture(),
                 "--methods text --model '" + nowrec::test::model_dir().string() + "' --cache '" +
                     cache.string() + "' --threads 1 --out '" + out.string() + "'",
                 dir.path() / "log") == 0);
  CHECK(fs::exists(cache / "item_embeddings.npy"));
  const auto document = nlohmann::json::parse(nowrec::test::read_file(out));
  REQUIRE(document["results"].size() == 1);
  const auto& text = document["results"][0];
  CHECK(text["method"] == "text");
  CHECK(text["cases"] == 3);
  CHECK(text["tuning"].size() == 10);
  // Three users over a catalog of six, each with at least two seen: a rank is at most 5.
  CHECK(text["mrr"].get<double>() >= 1.0 / 5);
  CHECK(text["hr@10"].get<double>() == doctest::Approx(1.0));
  CHECK(text["latency_ms"]["count"] == 3);
  CHECK(text["latency_ms"]["p99"].get<double>() > 0);
}

TEST_CASE("replay: bad input fails with a message naming what is wrong") {
  nowrec::test::TempDir dir;
  const fs::path log = dir.path() / "log";
  const fs::path data = dir.path() / "data";
  fs::create_directory(data);
  fs::copy_file(fixture() / "movies.csv", data / "movies.csv");

  // A rating of an item movies.csv does not list.
  nowrec::test::write_file(data / "ratings.csv",
                           "userId,movieId,rating,timestamp\n1,1,4.0,10\n1,99,4.0,20\n"
                           "1,2,4.0,30\n");
  CHECK(replay(data, "--methods popular", log) != 0);
  std::string message = nowrec::test::read_file(log);
  CHECK(message.find("ratings.csv") != std::string::npos);
  CHECK(message.find("item 99") != std::string::npos);

  // No user with the three ratings leave-one-out needs.
  nowrec::test::write_file(data / "ratings.csv",
                           "userId,movieId,rating,timestamp\n1,1,4.0,10\n1,2,4.0,20\n");
  CHECK(replay(data, "--methods popular", log) != 0);
  CHECK(nowrec::test::read_file(log).find("3 interactions") != std::string::npos);

  // A malformed row.
  nowrec::test::write_file(data / "ratings.csv", "userId,movieId,rating,timestamp\n1,x,4.0,10\n");
  CHECK(replay(data, "--methods popular", log) != 0);
  CHECK(nowrec::test::read_file(log).find("ratings.csv") != std::string::npos);

  // Unknown method and protocol names, a missing folder.
  CHECK(replay(fixture(), "--methods popular,magic", log) != 0);
  CHECK(nowrec::test::read_file(log).find("magic") != std::string::npos);
  CHECK(replay(fixture(), "--protocol random", log) != 0);
  CHECK(nowrec::test::read_file(log).find("random") != std::string::npos);
  CHECK(replay(dir.path() / "missing", "--methods popular", log) != 0);
  CHECK(nowrec::test::read_file(log).find("movies.csv") != std::string::npos);

  // The learned methods without a model, and with one made for other item embeddings (24-dim
  // against all-MiniLM-L6-v2's 384).
  CHECK(replay(fixture(), "--methods learned", log) != 0);
  CHECK(nowrec::test::read_file(log).find("--next-interest-model") != std::string::npos);
  const fs::path small_model = nowrec::test::fixtures_dir() / "next_interest" / "model";
  CHECK(replay(fixture(),
               "--methods learned --model '" + nowrec::test::model_dir().string() + "' --cache '" +
                   (dir.path() / "catalog").string() + "' --next-interest-model '" +
                   small_model.string() + "'",
               log) != 0);
  CHECK(nowrec::test::read_file(log).find("dim") != std::string::npos);

  // A trained model under the streaming protocol would be asked about the events it learned.
  CHECK(replay(fixture(),
               "--protocol streaming --methods fused --next-interest-model '" +
                   small_model.string() + "'",
               log) != 0);
  CHECK(nowrec::test::read_file(log).find("--protocol temporal") != std::string::npos);
}

// `nowrec catalog`: item texts embedded into .npy files and an index, reused while the inputs
// are unchanged and rebuilt when they change.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "encoder/npy_reader.hpp"
#include "nowrec/eval/dataset.hpp"
#include "nowrec/ranker.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

namespace {

std::string cli() { return nowrec::test::env_path("NOWREC_CLI").string(); }

// Runs `nowrec catalog` and returns its exit status; its stderr goes to `log`.
int run_catalog(const std::filesystem::path& data, const std::filesystem::path& out,
                const std::filesystem::path& log, const std::string& extra = "") {
  const std::string command = cli() + " catalog --model '" + nowrec::test::model_dir().string() +
                              "' --data '" + data.string() + "' --out '" + out.string() + "' " +
                              extra + " 2>'" + log.string() + "'";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool log_says(const std::filesystem::path& log, const std::string& part) {
  return nowrec::test::read_file(log).find(part) != std::string::npos;
}

// Reads an int64 .npy vector written by the command (the header is checked by its text).
std::vector<std::int64_t> read_ids(const std::filesystem::path& path) {
  const std::string bytes = nowrec::test::read_file(path);
  REQUIRE(bytes.size() >= 10);
  const std::size_t header =
      10 + (static_cast<unsigned char>(bytes[8]) |
            (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8));
  CHECK(bytes.substr(10, header - 10).find("'descr': '<i8'") != std::string::npos);
  CHECK(header % 64 == 0);
  std::vector<std::int64_t> ids((bytes.size() - header) / 8);
  std::memcpy(ids.data(), bytes.data() + header, ids.size() * 8);
  return ids;
}

void write_small_catalog(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  nowrec::test::write_file(dir / "movies.csv",
                           "movieId,title,genres\n"
                           "5,\"Space Robots, The (2001)\",Adventure|Sci-Fi\n"
                           "2,Quiet Garden (1990),Drama\n"
                           "9,\"Laugh \"\"Riot\"\" (2010)\",Comedy\n");
  nowrec::test::write_file(dir / "tags.csv",
                           "userId,movieId,tag,timestamp\n"
                           "1,5,Robots,10\n1,5,space,11\n2,5,robots,12\n3,9,slapstick,13\n");
}

}  // namespace

TEST_CASE("catalog: ids, normalised embeddings of item_text, texts and an index") {
  nowrec::test::TempDir dir;
  const auto data = dir.path() / "data";
  const auto out = dir.path() / "out";
  const auto log = dir.path() / "log.txt";
  write_small_catalog(data);
  REQUIRE(run_catalog(data, out, log, "--batch 2") == 0);
  CHECK(log_says(log, "written now"));

  CHECK(read_ids(out / "item_ids.npy") == std::vector<std::int64_t>{5, 2, 9});
  const auto embeddings = nowrec::test::read_npy_f32(out / "item_embeddings.npy");
  REQUIRE(embeddings.shape == std::vector<std::size_t>{3, 384});
  CHECK(nowrec::test::read_file(out / "item_texts.txt") ==
        "Space Robots, The (2001). Genres: Adventure, Sci-Fi. Tags: robots, space.\n"
        "Quiet Garden (1990). Genres: Drama.\n"
        "Laugh \"Riot\" (2010). Genres: Comedy. Tags: slapstick.\n");

  const auto items = nowrec::load_item_catalog(data / "movies.csv", data / "tags.csv");
  const auto encoder = nowrec::SequenceEncoder::load(nowrec::test::model_dir());
  std::vector<std::string_view> texts;
  for (const auto& item : items) texts.push_back(item.text);
  const auto expected = encoder.encode(texts);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(embeddings.values[i] == doctest::Approx(expected[i]).epsilon(1e-4));
  }

  const auto index = nowrec::ItemIndex::load(out / "items.idx");
  CHECK(index.size() == 3);
  CHECK(index.options().storage == nowrec::StorageType::F32);
  const nowrec::Ranker ranker(index);
  const auto query = encoder.encode(std::vector<std::string_view>{"robots in space"});
  CHECK(ranker.top_k(query, 1)[0].id == 5);
}

TEST_CASE("catalog: the folder is reused while its inputs are unchanged, rebuilt when not") {
  nowrec::test::TempDir dir;
  const auto data = dir.path() / "data";
  const auto out = dir.path() / "out";
  const auto log = dir.path() / "log.txt";
  write_small_catalog(data);
  REQUIRE(run_catalog(data, out, log) == 0);
  CHECK(log_says(log, "written now"));
  REQUIRE(run_catalog(data, out, log) == 0);
  CHECK(log_says(log, "already up to date"));

  SUBCASE("changed tags") {
    nowrec::test::write_file(data / "tags.csv", "userId,movieId,tag,timestamp\n1,2,calm,10\n");
    REQUIRE(run_catalog(data, out, log) == 0);
    CHECK(log_says(log, "written now"));
    CHECK(log_says(log, "embedding 3 item texts"));
    CHECK(nowrec::test::read_file(out / "item_texts.txt").find("Tags: calm.") != std::string::npos);
  }
  SUBCASE("tags file removed") {
    std::filesystem::remove(data / "tags.csv");
    REQUIRE(run_catalog(data, out, log) == 0);
    CHECK(log_says(log, "written now"));
    CHECK(nowrec::test::read_file(out / "item_texts.txt").find("Tags:") == std::string::npos);
  }
  SUBCASE("another max_tags") {
    REQUIRE(run_catalog(data, out, log, "--max-tags 1") == 0);
    CHECK(log_says(log, "written now"));
    CHECK(nowrec::test::read_file(out / "item_texts.txt").find("Tags: robots.\n") !=
          std::string::npos);
  }
  SUBCASE("a damaged embeddings file") {
    nowrec::test::write_file(out / "item_embeddings.npy", "truncated");
    REQUIRE(run_catalog(data, out, log) == 0);
    CHECK(log_says(log, "written now"));
    CHECK(nowrec::test::read_npy_f32(out / "item_embeddings.npy").shape ==
          std::vector<std::size_t>{3, 384});
  }
  SUBCASE("one bit of an embedding changed, the file still whole") {
    std::string bytes = nowrec::test::read_file(out / "item_embeddings.npy");
    bytes[bytes.size() - 4] ^= 0x01;  // the low mantissa bit of the last value
    nowrec::test::write_file(out / "item_embeddings.npy", bytes);
    REQUIRE(run_catalog(data, out, log) == 0);
    CHECK(log_says(log, "written now"));
    CHECK(nowrec::test::read_file(out / "item_embeddings.npy") != bytes);
  }
  SUBCASE("--rebuild") {
    REQUIRE(run_catalog(data, out, log, "--rebuild") == 0);
    CHECK(log_says(log, "written now"));
  }
}

TEST_CASE("catalog: bad data fails naming the file and writes nothing") {
  nowrec::test::TempDir dir;
  const auto data = dir.path() / "data";
  const auto out = dir.path() / "out";
  const auto log = dir.path() / "log.txt";
  std::filesystem::create_directories(data);
  CHECK(run_catalog(data, out, log) != 0);
  CHECK(log_says(log, "movies.csv"));
  nowrec::test::write_file(data / "movies.csv", "movieId,title,genres\n1,A (2000),Drama\n");
  nowrec::test::write_file(data / "tags.csv", "userId,movieId,tag,timestamp\n1,7,lost,3\n");
  CHECK(run_catalog(data, out, log) != 0);
  CHECK(log_says(log, "tags.csv:2: column 'movieId': item 7 is not in the items file"));
  CHECK_FALSE(std::filesystem::exists(out));
}

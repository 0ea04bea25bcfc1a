// `nowrec encode` writes sentence-transformers' embeddings as a .npy matrix.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "encoder/npy_reader.hpp"
#include "test_support.hpp"

namespace {

std::string cli() { return nowrec::test::env_path("NOWREC_CLI").string(); }

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> fixture_texts(std::size_t count) {
  std::ifstream in(nowrec::test::fixtures_dir() / "encoder" / "minilm_texts.jsonl");
  std::vector<std::string> texts;
  for (std::string line; texts.size() < count && std::getline(in, line);) {
    texts.push_back(nlohmann::json::parse(line).get<std::string>());
  }
  return texts;
}

}  // namespace

TEST_CASE("encode: every line's embedding equals the sentence-transformers reference") {
  const std::size_t count = 40;
  const auto texts = fixture_texts(count);
  REQUIRE(texts.size() == count);
  const auto reference =
      nowrec::test::read_npy_f32(nowrec::test::fixtures_dir() / "encoder" / "minilm_embeddings.npy");
  const std::size_t dim = reference.shape.at(1);

  nowrec::test::TempDir dir;
  std::ostringstream input;
  for (const std::string& text : texts) input << text << '\n';
  nowrec::test::write_file(dir.path() / "in.txt", input.str());
  const std::string out = (dir.path() / "out.npy").string();
  REQUIRE(run(cli() + " encode --model '" + nowrec::test::model_dir().string() +
              "' --batch 7 --threads 1 --out '" + out + "' < '" + (dir.path() / "in.txt").string() +
              "'") == 0);

  const auto got = nowrec::test::read_npy_f32(out);
  REQUIRE(got.shape == std::vector<std::size_t>{count, dim});
  for (std::size_t row = 0; row < count; ++row) {
    CAPTURE(texts[row]);
    double dot = 0, norm_got = 0, norm_ref = 0, max_diff = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      const double a = got.values[row * dim + j], b = reference.values[row * dim + j];
      dot += a * b;
      norm_got += a * a;
      norm_ref += b * b;
      max_diff = std::max(max_diff, std::abs(a - b));
    }
    CHECK(dot / std::sqrt(norm_got * norm_ref) >= 0.99999);
    CHECK(max_diff <= 1e-4);
  }

  // Standard output gets the same bytes.
  const std::string piped = (dir.path() / "piped.npy").string();
  REQUIRE(run(cli() + " encode --model '" + nowrec::test::model_dir().string() + "' < '" +
              (dir.path() / "in.txt").string() + "' > '" + piped + "'") == 0);
  CHECK(nowrec::test::read_npy_f32(piped).shape == got.shape);
}

TEST_CASE("encode --dtype bf16 stays within cosine 0.999 of the reference") {
  const std::size_t count = 20;
  const auto texts = fixture_texts(count);
  const auto reference = nowrec::test::read_npy_f32(nowrec::test::fixtures_dir() / "encoder" /
                                                    "minilm_embeddings.npy");
  const std::size_t dim = reference.shape.at(1);
  nowrec::test::TempDir dir;
  std::ostringstream input;
  for (const std::string& text : texts) input << text << '\n';
  nowrec::test::write_file(dir.path() / "in.txt", input.str());
  const std::string out = (dir.path() / "bf16.npy").string();
  REQUIRE(run(cli() + " encode --model '" + nowrec::test::model_dir().string() +
              "' --dtype bf16 --threads 1 --out '" + out + "' < '" +
              (dir.path() / "in.txt").string() + "'") == 0);
  const auto got = nowrec::test::read_npy_f32(out);
  REQUIRE(got.shape == std::vector<std::size_t>{count, dim});
  for (std::size_t row = 0; row < count; ++row) {
    double dot = 0, norm_got = 0, norm_ref = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      const double a = got.values[row * dim + j], b = reference.values[row * dim + j];
      dot += a * b;
      norm_got += a * a;
      norm_ref += b * b;
    }
    CHECK(dot / std::sqrt(norm_got * norm_ref) >= 0.999);
  }
}

TEST_CASE("encode: no input gives an empty matrix; bad arguments fail") {
  nowrec::test::TempDir dir;
  const std::string model = nowrec::test::model_dir().string();
  const std::string out = (dir.path() / "empty.npy").string();
  REQUIRE(run(cli() + " encode --model '" + model + "' --out '" + out + "' < /dev/null") == 0);
  CHECK(nowrec::test::read_npy_f32(out).shape == std::vector<std::size_t>{0, 384});

  CHECK(run(cli() + " encode --model '" + (dir.path() / "missing").string() +
            "' < /dev/null > /dev/null 2>&1") != 0);
  CHECK(run(cli() + " encode --model '" + model + "' --batch 0 < /dev/null > /dev/null 2>&1") != 0);
  CHECK(run(cli() + " encode --model '" + model + "' --dtype f64 < /dev/null > /dev/null 2>&1") !=
        0);
  CHECK(run(cli() + " encode --model '" + model + "' --out '" +
            (dir.path() / "no" / "such" / "dir.npy").string() + "' < /dev/null 2>/dev/null") != 0);
}

// The real catalog: ml-latest-small movies (title and genres) embedded by nowrec, ranked exactly
// and with bf16/int8 storage.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "nowrec/ranker.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "ranker/reference.hpp"
#include "test_support.hpp"

namespace {

// The first `limit` movies of movies.csv as "title genres" (titles may be quoted).
nowrec::test::Catalog read_movies(std::size_t limit, std::vector<std::string>& texts) {
  std::ifstream in(nowrec::test::env_path("NOWREC_TEST_SHARED") /
                   "data/ml-latest-small/movies.csv");
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  nowrec::test::Catalog catalog;
  while (catalog.ids.size() < limit && std::getline(in, line)) {
    const auto first_comma = line.find(',');
    const auto last_comma = line.rfind(',');
    std::string title = line.substr(first_comma + 1, last_comma - first_comma - 1);
    if (title.size() >= 2 && title.front() == '"') title = title.substr(1, title.size() - 2);
    catalog.ids.push_back(std::stoll(line.substr(0, first_comma)));
    texts.push_back(title + " " + line.substr(last_comma + 1));
  }
  return catalog;
}

}  // namespace

TEST_CASE("ml-latest-small embedded by nowrec: exact fp32 top-k, bf16 and int8 recall@10") {
  std::vector<std::string> texts;
  auto catalog = read_movies(200, texts);
  REQUIRE(catalog.ids.size() == 200);
  const auto encoder = nowrec::SequenceEncoder::load(nowrec::test::model_dir());
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  catalog.vectors = encoder.encode(views);
  catalog.dim = encoder.dim();

  nowrec::ItemIndex exact(catalog.dim), bf16(catalog.dim, {.storage = nowrec::StorageType::BF16}),
      int8(catalog.dim, {.storage = nowrec::StorageType::Int8});
  for (auto* index : {&exact, &bf16, &int8}) index->add(catalog.ids, catalog.vectors);

  // Every movie as the query (its nearest neighbours), and a few free-text queries.
  const std::vector<std::string_view> questions = {"animated film for children",
                                                   "space science fiction", "romantic comedy"};
  const auto question_vectors = encoder.encode(questions);
  std::vector<std::span<const float>> queries;
  for (std::size_t row = 0; row < catalog.ids.size(); ++row) queries.push_back(catalog.row(row));
  for (std::size_t i = 0; i < questions.size(); ++i) {
    queries.push_back(std::span(question_vectors).subspan(i * catalog.dim, catalog.dim));
  }
  double recall_bf16 = 0.0, recall_int8 = 0.0;
  for (const auto& query : queries) {
    const auto expected = nowrec::test::brute_force_query(catalog, query, 10);
    const auto got = nowrec::Ranker(exact).top_k(query, 10);
    REQUIRE(got.size() == 10);
    for (std::size_t i = 0; i < 10; ++i) CHECK(got[i].id == expected[i].id);
    recall_bf16 += nowrec::test::recall(nowrec::Ranker(bf16).top_k(query, 10), expected);
    recall_int8 += nowrec::test::recall(nowrec::Ranker(int8).top_k(query, 10), expected);
  }
  CHECK(recall_bf16 / double(queries.size()) >= 0.99);
  CHECK(recall_int8 / double(queries.size()) >= 0.99);
}

// SequenceEncoder's public encode API: texts and ids agree, bad input is refused with the
// argument named, and concurrent calls and thread counts do not change the result.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/tiny_model.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

using nowrec::ErrorCode;
using nowrec::SequenceEncoder;

namespace {

std::vector<std::string> fixture_texts(std::size_t count) {
  std::ifstream lines(nowrec::test::fixtures_dir() / "encoder" / "minilm_texts.jsonl");
  std::vector<std::string> texts;
  for (std::string line; texts.size() < count && std::getline(lines, line);) {
    texts.push_back(nlohmann::json::parse(line).get<std::string>());
  }
  return texts;
}

std::vector<std::string_view> views(const std::vector<std::string>& texts) {
  return {texts.begin(), texts.end()};
}

const SequenceEncoder& minilm() {
  static const SequenceEncoder encoder = SequenceEncoder::load(nowrec::test::model_dir());
  return encoder;
}

void check_invalid_argument(auto&& call, std::initializer_list<std::string> fragments) {
  try {
    call();
    FAIL("bad input was accepted");
  } catch (const nowrec::Error& error) {
    CHECK_MESSAGE(error.code() == ErrorCode::InvalidArgument, error.what());
    const std::string message = error.what();
    for (const std::string& fragment : fragments) {
      CHECK_MESSAGE(message.find(fragment) != std::string::npos, message, " lacks ", fragment);
    }
  }
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst;
}

}  // namespace

TEST_CASE("encode writes unit-length rows; the vector overload returns the same") {
  const auto texts = fixture_texts(40);
  const auto text_views = views(texts);
  const SequenceEncoder& encoder = minilm();
  std::vector<float> out(texts.size() * encoder.dim());
  encoder.encode(text_views, out);
  CHECK(encoder.encode(text_views) == out);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    double norm = 0.0;
    for (std::size_t c = 0; c < encoder.dim(); ++c)
      norm += double(out[i * 384 + c]) * out[i * 384 + c];
    CHECK(std::sqrt(norm) == doctest::Approx(1.0).epsilon(1e-5));
  }
  CHECK(encoder.encode(std::span<const std::string_view>{}).empty());
}

TEST_CASE("encode_ids of the tokenizer's ids equals encode of the texts") {
  const auto texts = fixture_texts(30);
  const SequenceEncoder& encoder = minilm();
  std::vector<std::vector<std::int32_t>> ids(texts.size());
  nowrec::TokenizeOptions options;
  options.max_length = encoder.info().max_length;
  for (std::size_t i = 0; i < texts.size(); ++i)
    encoder.tokenizer().encode_ids(texts[i], ids[i], options);
  const std::vector<std::span<const std::int32_t>> sequences(ids.begin(), ids.end());
  CHECK(encoder.encode_ids(sequences) == encoder.encode(views(texts)));
}

TEST_CASE("Dtype::BF16 on the CPU says how its matmuls run and stays close to f32") {
  const auto texts = fixture_texts(30);
  const SequenceEncoder bf16 = SequenceEncoder::load(nowrec::test::model_dir(),
                                                     {.threads = 1, .dtype = nowrec::Dtype::BF16});
  CHECK(bf16.info().dtype == nowrec::Dtype::BF16);
  const std::string& path = bf16.info().cpu_matmul;
  CHECK_MESSAGE((path == "bf16" || path == "bf16 weights, f32 compute"), path);
  CHECK(minilm().info().cpu_matmul == "f32");
  const std::vector<float> got = bf16.encode(views(texts));
  const std::vector<float> want = minilm().encode(views(texts));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    double dot = 0.0;  // both rows are unit length
    for (std::size_t c = 0; c < bf16.dim(); ++c)
      dot += double(got[i * 384 + c]) * want[i * 384 + c];
    CHECK(dot >= 0.999);
  }
}

TEST_CASE("long texts are truncated to the model's maximum length") {
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "word ";
  const std::string_view text = long_text;
  const SequenceEncoder& encoder = minilm();
  const auto embedding = encoder.encode(std::span(&text, 1));
  REQUIRE(embedding.size() == encoder.dim());
  CHECK(std::all_of(embedding.begin(), embedding.end(), [](float x) { return std::isfinite(x); }));
}

TEST_CASE("bad input is refused with the argument named") {
  const SequenceEncoder& encoder = minilm();
  const std::vector<std::string_view> texts{"one", "two"};
  std::vector<float> out(2 * encoder.dim() - 1);
  check_invalid_argument([&] { encoder.encode(texts, out); },
                         {"encode", "out holds 767 floats", "768"});
  std::vector<float> too_big(3 * encoder.dim());
  check_invalid_argument([&] { encoder.encode(texts, too_big); }, {"out holds 1152"});

  const std::vector<std::int32_t> good{101, 2000, 102}, empty{}, bad_id{101, 30522, 102},
      negative{101, -1, 102};
  const std::vector<std::int32_t> too_long(encoder.info().max_length + 1, 2000);
  auto encode_one = [&](const std::vector<std::int32_t>& ids) {
    const std::vector<std::span<const std::int32_t>> sequences{good, ids};
    return encoder.encode_ids(sequences);
  };
  check_invalid_argument([&] { encode_one(empty); }, {"encode_ids", "sequence 1", "empty"});
  check_invalid_argument([&] { encode_one(bad_id); }, {"sequence 1", "30522", "position 1"});
  check_invalid_argument([&] { encode_one(negative); }, {"-1"});
  check_invalid_argument([&] { encode_one(too_long); }, {"257 tokens", "at most 256"});
  std::vector<float> small(encoder.dim());
  const std::vector<std::span<const std::int32_t>> two{good, good};
  check_invalid_argument([&] { encoder.encode_ids(two, small); }, {"encode_ids", "out"});
}

TEST_CASE("thread counts and concurrent calls give the same embeddings") {
  const auto texts = fixture_texts(64);
  const auto text_views = views(texts);
  const auto reference = minilm().encode(text_views);
  const auto single = SequenceEncoder::load(nowrec::test::model_dir(), {.threads = 1});
  CHECK(max_abs_diff(single.encode(text_views), reference) < 1e-6);

  std::vector<std::vector<float>> results(4);
  std::vector<std::thread> workers;
  for (auto& result : results) {
    workers.emplace_back([&] { result = minilm().encode(text_views); });
  }
  for (auto& worker : workers) worker.join();
  for (const auto& result : results) CHECK(result == reference);
}

TEST_CASE("tiny BERT and XLM-R folders in F32, F16 and BF16 encode to finite rows") {
  nowrec::test::TempDir dir;
  auto config = nowrec::test::tiny_bert_config();
  for (const char* dtype : {"F32", "F16", "BF16"}) {
    for (const char* model_type : {"bert", "xlm-roberta"}) {
      CAPTURE(dtype);
      CAPTURE(model_type);
      config["model_type"] = model_type;
      config["pad_token_id"] = std::string(model_type) == "bert" ? 0 : 1;
      nowrec::test::write_tiny_model(dir.path(), config,
                                     nowrec::test::tiny_bert_tensors(config, "", dtype));
      const auto encoder = SequenceEncoder::load(dir.path());
      const std::vector<std::string_view> texts{"a b c", "", "g f e d c b a"};
      const auto out = encoder.encode(texts);
      REQUIRE(out.size() == 3 * 8);
      CHECK(std::all_of(out.begin(), out.end(), [](float x) { return std::isfinite(x); }));
      // The longest sequence the position table allows still runs.
      const std::vector<std::int32_t> longest(encoder.info().max_length, 5);
      const std::vector<std::span<const std::int32_t>> sequences{longest};
      CHECK(encoder.encode_ids(sequences).size() == 8);
    }
  }
}

TEST_CASE("a tokenizer with ids beyond the embedding table is refused at load") {
  nowrec::test::TempDir dir;
  const auto config = nowrec::test::tiny_bert_config();
  nowrec::test::write_tiny_model(dir.path(), config, nowrec::test::tiny_bert_tensors(config));
  nowrec::test::write_file(dir.path() / "vocab.txt",
                           "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\nf\ng\nh\n");
  try {
    SequenceEncoder::load(dir.path());
    FAIL("loaded an encoder whose tokenizer outgrows its embeddings");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == ErrorCode::InvalidModel);
    const std::string message = error.what();
    CHECK(message.find("13 tokens") != std::string::npos);
    CHECK(message.find("vocab_size is 12") != std::string::npos);
  }
}

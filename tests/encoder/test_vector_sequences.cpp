// Vector-sequence input (bidirectional and causal) and per-token hidden states against PyTorch's
// BertModel on a tiny random BERT (tools/make_sequence_fixtures.py), for every ISA.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cpu/dispatch.hpp"
#include "encoder/cpu_encoder.hpp"
#include "encoder/npy_reader.hpp"
#include "nowrec/cpu_isa.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

using nowrec::AttentionMask;
using nowrec::CpuIsa;
using nowrec::SequenceEncoder;
using Output = nowrec::encoder::ForwardOutput;

namespace {

struct SequenceFixture {
  std::filesystem::path model;
  std::vector<std::size_t> lengths;
  std::vector<std::vector<std::int32_t>> ids;
  nowrec::test::NpyArray inputs, bidirectional, causal, ids_tokens;

  std::vector<std::span<const float>> input_sequences() const {
    std::vector<std::span<const float>> sequences;
    const std::size_t dim = inputs.shape.at(1);
    std::size_t row = 0;
    for (std::size_t length : lengths) {
      sequences.emplace_back(inputs.values.data() + row * dim, length * dim);
      row += length;
    }
    return sequences;
  }
  std::vector<std::span<const std::int32_t>> id_sequences() const {
    return {ids.begin(), ids.end()};
  }
};

const SequenceFixture& fixture() {
  static const SequenceFixture loaded = [] {
    const auto dir = nowrec::test::fixtures_dir() / "sequence";
    SequenceFixture f;
    f.model = dir / "tiny_bert";
    const auto meta = nlohmann::json::parse(nowrec::test::read_file(dir / "sequences.json"));
    f.lengths = meta["lengths"].get<std::vector<std::size_t>>();
    f.ids = meta["ids"].get<std::vector<std::vector<std::int32_t>>>();
    f.inputs = nowrec::test::read_npy_f32(dir / "inputs.npy");
    f.bidirectional = nowrec::test::read_npy_f32(dir / "bidirectional_tokens.npy");
    f.causal = nowrec::test::read_npy_f32(dir / "causal_tokens.npy");
    f.ids_tokens = nowrec::test::read_npy_f32(dir / "ids_tokens.npy");
    return f;
  }();
  return loaded;
}

double max_abs_diff(std::span<const float> got, std::span<const float> want) {
  REQUIRE(got.size() == want.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, std::abs(double(got[i]) - double(want[i])));
  }
  return worst;
}

// Mean of each sequence's rows: the folder has no pooling files, so it mean-pools.
std::vector<float> mean_rows(std::span<const float> rows, std::span<const std::size_t> lengths,
                             std::size_t dim) {
  std::vector<float> out;
  std::size_t row = 0;
  for (std::size_t length : lengths) {
    for (std::size_t c = 0; c < dim; ++c) {
      double sum = 0.0;
      for (std::size_t t = 0; t < length; ++t) sum += rows[(row + t) * dim + c];
      out.push_back(static_cast<float>(sum / double(length)));
    }
    row += length;
  }
  return out;
}

}  // namespace

TEST_CASE("vector sequences match BertModel(inputs_embeds=...) for both masks and every ISA") {
  const SequenceFixture& f = fixture();
  const auto model = nowrec::ModelFolder::load(f.model);
  const auto sequences = f.input_sequences();
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (!nowrec::cpu_supports(isa)) continue;
    CAPTURE(nowrec::cpu_isa_name(isa));
    const nowrec::encoder::CpuEncoder encoder(model, 1, nowrec::cpu::kernels_for(isa));
    std::vector<float> got(f.bidirectional.values.size());
    encoder.encode_vectors(sequences, false, got, Output::Tokens);
    CHECK(max_abs_diff(got, f.bidirectional.values) <= 1e-4);
    encoder.encode_vectors(sequences, true, got, Output::Tokens);
    CHECK(max_abs_diff(got, f.causal.values) <= 1e-4);
    // The same one sequence at a time: packing does not leak attention across sequences.
    std::size_t row = 0;
    for (std::size_t s = 0; s < sequences.size(); ++s) {
      std::vector<float> one(sequences[s].size());
      encoder.encode_vectors(std::span(sequences).subspan(s, 1), true, one, Output::Tokens);
      CHECK(max_abs_diff(one, std::span(f.causal.values).subspan(row * 40, one.size())) <= 1e-4);
      row += f.lengths[s];
    }
  }
}

TEST_CASE("batches cut into passes of any size give the same states") {
  const SequenceFixture& f = fixture();
  const auto model = nowrec::ModelFolder::load(f.model);
  const auto sequences = f.input_sequences();
  std::vector<float> whole(f.causal.values.size()), cut(whole.size());
  const nowrec::encoder::CpuEncoder one_pass(model, 1, nowrec::cpu::kernels());
  one_pass.encode_vectors(sequences, true, whole, Output::Tokens);
  // Passes of one token hold one whole sequence each: the batch's longest sequence sets the
  // floor.
  for (std::size_t chunk_tokens : {std::size_t{1}, std::size_t{7}, std::size_t{20}}) {
    CAPTURE(chunk_tokens);
    const nowrec::encoder::CpuEncoder encoder(model, 1, nowrec::cpu::kernels(),
                                              nowrec::encoder::MatmulPrecision::F32, chunk_tokens);
    std::fill(cut.begin(), cut.end(), 7.0f);
    encoder.encode_vectors(sequences, true, cut, Output::Tokens);
    CHECK(max_abs_diff(cut, whole) <= 1e-5);
    CHECK(max_abs_diff(cut, f.causal.values) <= 1e-4);
  }
}

TEST_CASE("SequenceEncoder::encode_vectors pools and encode_vectors_tokens returns the states") {
  const SequenceFixture& f = fixture();
  const SequenceEncoder encoder = SequenceEncoder::load(f.model, {.threads = 2});
  const std::size_t dim = encoder.dim();
  const auto sequences = f.input_sequences();
  for (AttentionMask mask : {AttentionMask::Bidirectional, AttentionMask::Causal}) {
    const auto& want = mask == AttentionMask::Causal ? f.causal : f.bidirectional;
    const nowrec::TokenStates states = encoder.encode_vectors_tokens(sequences, mask);
    REQUIRE(states.offsets.size() == sequences.size() + 1);
    CHECK(states.offsets.back() == want.shape.at(0));
    for (std::size_t s = 0; s < sequences.size(); ++s) {
      CHECK(states.offsets[s + 1] - states.offsets[s] == f.lengths[s]);
    }
    CHECK(max_abs_diff(states.values, want.values) <= 1e-4);
    CHECK(max_abs_diff(encoder.encode_vectors(sequences, mask),
                       mean_rows(want.values, f.lengths, dim)) <= 1e-4);
  }
}

TEST_CASE("per-token hidden states of ids and texts match BertModel(input_ids=...)") {
  const SequenceFixture& f = fixture();
  const SequenceEncoder encoder = SequenceEncoder::load(f.model, {.threads = 1});
  const nowrec::TokenStates states = encoder.encode_ids_tokens(f.id_sequences());
  REQUIRE(states.offsets.size() == f.ids.size() + 1);
  CHECK(max_abs_diff(states.values, f.ids_tokens.values) <= 1e-4);

  // Pooling the states gives encode_ids; texts give the states of their tokenizer's ids.
  std::vector<std::size_t> lengths;
  for (const auto& ids : f.ids) lengths.push_back(ids.size());
  CHECK(max_abs_diff(encoder.encode_ids(f.id_sequences()),
                     mean_rows(states.values, lengths, encoder.dim())) <= 1e-5);
  const std::vector<std::string_view> texts{"w2 w6", "", "w40 w41 w42 w1 w0"};
  const nowrec::TokenStates text_states = encoder.encode_tokens(texts);
  std::vector<std::vector<std::int32_t>> text_ids(texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    encoder.tokenizer().encode_ids(texts[i], text_ids[i]);
  }
  const std::vector<std::span<const std::int32_t>> id_spans(text_ids.begin(), text_ids.end());
  const nowrec::TokenStates from_ids = encoder.encode_ids_tokens(id_spans);
  CHECK(text_states.offsets == from_ids.offsets);
  CHECK(max_abs_diff(text_states.values, from_ids.values) <= 1e-6);
}

TEST_CASE("bad vector sequences are refused with the sequence named") {
  const SequenceEncoder encoder = SequenceEncoder::load(fixture().model, {.threads = 1});
  const std::size_t dim = encoder.dim();
  auto refused = [&](std::vector<std::vector<float>> inputs, std::size_t out_rows,
                     const std::string& fragment) {
    const std::vector<std::span<const float>> sequences(inputs.begin(), inputs.end());
    std::vector<float> out(out_rows * dim);
    try {
      encoder.encode_vectors(sequences, AttentionMask::Causal, out);
      FAIL("bad input was accepted");
    } catch (const nowrec::Error& error) {
      CHECK(error.code() == nowrec::ErrorCode::InvalidArgument);
      CHECK_MESSAGE(std::string(error.what()).find(fragment) != std::string::npos, error.what());
    }
  };
  refused({std::vector<float>(dim), {}}, 2, "sequence 1 is empty");
  refused({std::vector<float>(dim + 1)}, 1, "not a multiple of dim 40");
  refused({std::vector<float>(dim * (encoder.info().max_length + 1))}, 1, "takes at most");
  refused({std::vector<float>(dim)}, 2, "out holds");
  std::vector<float> with_nan(dim * 3, 0.25f);
  with_nan[dim * 2 + 5] = std::nanf("");
  refused({std::vector<float>(dim, 0.5f), with_nan}, 2,
          "sequence 1 holds a non-finite value at vector 2, element 5");
  std::vector<float> with_inf(dim, 0.25f);
  with_inf[0] = INFINITY;
  refused({with_inf}, 1, "sequence 0 holds a non-finite value at vector 0, element 0");
}

TEST_CASE("a model folder without a tokenizer encodes vector sequences only") {
  const auto& f = fixture();
  nowrec::test::TempDir dir;
  for (const char* name : {"config.json", "model.safetensors"}) {
    std::filesystem::copy_file(f.model / name, dir.path() / name);
  }
  const nowrec::ModelFolder folder = nowrec::ModelFolder::load(dir.path());
  CHECK_FALSE(folder.has_tokenizer());
  CHECK_THROWS_WITH_AS(folder.tokenizer_files(), doctest::Contains("no tokenizer"), nowrec::Error);
  CHECK(folder.max_sequence_length() == 64);

  const SequenceEncoder encoder = SequenceEncoder::load(folder, {.threads = 1});
  CHECK_FALSE(encoder.has_tokenizer());
  CHECK(SequenceEncoder::load(f.model).has_tokenizer());
  const auto sequences = f.input_sequences();
  const auto states = encoder.encode_vectors_tokens(sequences, AttentionMask::Causal);
  CHECK(max_abs_diff(states.values, f.causal.values) <= 1e-4);
  // Token ids still run: the embedding table is there, only the text-to-ids step is missing.
  CHECK(encoder.encode_ids(f.id_sequences()).size() == f.ids.size() * encoder.dim());

  const std::vector<std::string_view> texts{"hello"};
  for (const auto& call : std::vector<std::function<void()>>{
           [&] { (void)encoder.encode(texts); },
           [&] { (void)encoder.encode_tokens(texts); },
           [&] { (void)encoder.tokenizer(); },
       }) {
    try {
      call();
      FAIL("a text call succeeded without a tokenizer");
    } catch (const nowrec::Error& error) {
      CHECK(error.code() == nowrec::ErrorCode::Unsupported);
      CHECK(std::string(error.what()).find("this model has no tokenizer") != std::string::npos);
    }
  }
}

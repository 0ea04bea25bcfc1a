// SequenceEncoder on CUDA: refused cleanly without a GPU; with one, sentence-transformers'
// embeddings in fp16 and bf16, through graphs and without, on the default and a per-thread
// stream.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "encoder/minilm_fixture.hpp"
#include "encoder/npy_reader.hpp"
#include "encoder/pooling_fixture.hpp"
#include "nowrec/device.hpp"
#include "nowrec/error.hpp"
#include "nowrec/sequence_encoder.hpp"
#include "test_support.hpp"

using nowrec::Device;
using nowrec::Dtype;
using nowrec::EncoderOptions;
using nowrec::SequenceEncoder;

namespace {

const bool has_gpu = nowrec::cuda_device_count() > 0;

EncoderOptions cuda_options(Dtype dtype) {
  EncoderOptions options;
  options.device = Device::CUDA;
  options.dtype = dtype;
  return options;
}

using Fixture = nowrec::test::MinilmFixture;

const Fixture& fixture() {
  static const Fixture loaded = [] {
    Fixture f = nowrec::test::load_minilm_fixture();
    // compute-sanitizer runs the tests on a prefix of the texts to stay within its time.
    if (const char* limit = std::getenv("NOWREC_TEST_TEXT_LIMIT")) {
      const std::size_t count = std::min<std::size_t>(std::stoul(limit), f.texts.size());
      const std::size_t dim = f.embeddings.shape.at(1);
      f.texts.resize(count);
      f.embeddings.values.resize(count * dim);
      f.embeddings.shape[0] = count;
    }
    return f;
  }();
  return loaded;
}

double cosine(const float* a, const float* b, std::size_t n) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

// Embeds every fixture text `batch` at a time in shuffled order; returns the worst cosine
// against the fp32 sentence-transformers reference.
double worst_cosine(const SequenceEncoder& encoder, std::size_t batch, nowrec::CudaStream stream) {
  const Fixture& f = fixture();
  const std::size_t n = f.texts.size(), dim = encoder.dim();
  REQUIRE(f.embeddings.shape == std::vector<std::size_t>{n, dim});
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(static_cast<unsigned>(batch)));
  double worst = 1.0;
  std::vector<float> out;
  for (std::size_t start = 0; start < n; start += batch) {
    const std::size_t count = std::min(batch, n - start);
    std::vector<std::string_view> texts;
    for (std::size_t i = 0; i < count; ++i) texts.push_back(f.texts[order[start + i]]);
    out.assign(count * dim, 0.0f);
    encoder.encode(texts, out, stream);
    for (std::size_t i = 0; i < count; ++i) {
      const double c =
          cosine(out.data() + i * dim, f.embeddings.values.data() + order[start + i] * dim, dim);
      if (c < 0.9995) MESSAGE("text ", order[start + i], " cosine ", c);
      worst = std::min(worst, c);
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("without a GPU, a CUDA encoder is refused with 'no CUDA device'" *
          doctest::skip(has_gpu)) {
  try {
    SequenceEncoder::load(nowrec::test::model_dir(), cuda_options(Dtype::Default));
    FAIL("SequenceEncoder::load succeeded on CUDA without a GPU");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::DeviceUnavailable);
    CHECK(std::string(error.what()).find("no CUDA device") != std::string::npos);
  }
}

TEST_CASE("a dtype the device does not run is refused, not replaced") {
  EncoderOptions cpu_f16;
  cpu_f16.dtype = Dtype::F16;
  try {
    SequenceEncoder::load(nowrec::test::model_dir(), cpu_f16);
    FAIL("the CPU encoder accepted F16");
  } catch (const nowrec::Error& error) {
    CHECK(error.code() == nowrec::ErrorCode::Unsupported);
    CHECK(std::string(error.what()).find("EncoderOptions::dtype") != std::string::npos);
  }
  if (has_gpu) {
    CHECK_THROWS_AS(SequenceEncoder::load(nowrec::test::model_dir(), cuda_options(Dtype::F32)),
                    nowrec::Error);
  }
}

TEST_CASE("a CPU encoder refuses a CUDA stream and says so") {
  const SequenceEncoder encoder = SequenceEncoder::load(nowrec::test::model_dir());
  CHECK(encoder.info().device == Device::CPU);
  CHECK(encoder.info().dtype == Dtype::F32);
  const std::vector<std::string_view> texts{"hello"};
  std::vector<float> out(encoder.dim());
  int not_a_stream = 0;
  CHECK_THROWS_AS(encoder.encode(texts, out, nowrec::CudaStream{&not_a_stream}), nowrec::Error);
  CHECK_NOTHROW(encoder.encode(texts, out, nowrec::CudaStream{}));
}

TEST_CASE("CUDA fp16 and bf16 match sentence-transformers' fp32 embeddings" *
          doctest::skip(!has_gpu)) {
  MESSAGE(nowrec::cuda_device_description(0));
  // cudaStreamPerThread's handle: a real non-default stream without linking the CUDA runtime.
  const nowrec::CudaStream per_thread{reinterpret_cast<void*>(0x2)};
  for (Dtype dtype : {Dtype::F16, Dtype::BF16}) {
    CAPTURE(nowrec::dtype_name(dtype));
    const SequenceEncoder encoder =
        SequenceEncoder::load(nowrec::test::model_dir(), cuda_options(dtype));
    CHECK(encoder.info().device == Device::CUDA);
    CHECK(encoder.info().dtype == dtype);
    // 1 and 7: graph buckets; the whole set at once: large chunks without graphs.
    for (std::size_t batch :
         {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{100000}}) {
      CAPTURE(batch);
      CHECK(worst_cosine(encoder, batch, {}) >= 0.9995);
    }
    CHECK(worst_cosine(encoder, 7, per_thread) >= 0.9995);
  }
}

TEST_CASE("CUDA CLS, max, mean, mean-sqrt-len and last-token pooling match sentence-transformers" *
          doctest::skip(!has_gpu)) {
  const auto texts = nowrec::test::pooling_texts();
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  for (const auto& [mode_name, field] : nowrec::test::kPoolingModes) {
    const std::string mode = mode_name;
    nowrec::test::TempDir dir;
    nowrec::test::write_model_with_pooling(dir.path(), field);
    const auto reference = nowrec::test::read_npy_f32(nowrec::test::fixtures_dir() / "encoder" /
                                                      ("minilm_pooling_" + mode + ".npy"));
    REQUIRE(reference.shape == std::vector<std::size_t>{texts.size(), 384});
    for (Dtype dtype : {Dtype::F16, Dtype::BF16}) {
      CAPTURE(mode);
      CAPTURE(nowrec::dtype_name(dtype));
      const SequenceEncoder encoder = SequenceEncoder::load(dir.path(), cuda_options(dtype));
      CHECK_FALSE(encoder.info().pooling.normalize);
      // Batches of 5 so that long and short texts share a packed batch.
      std::vector<float> out(texts.size() * 384, std::nanf(""));
      for (std::size_t first = 0; first < texts.size(); first += 5) {
        const std::size_t count = std::min<std::size_t>(5, texts.size() - first);
        encoder.encode(std::span(views).subspan(first, count),
                       std::span(out).subspan(first * 384, count * 384));
      }
      double worst = 1.0;
      for (std::size_t i = 0; i < texts.size(); ++i) {
        worst =
            std::min(worst, cosine(out.data() + i * 384, reference.values.data() + i * 384, 384));
      }
      MESSAGE(mode, " ", nowrec::dtype_name(dtype), ": worst cosine ", worst);
      CHECK(worst >= 0.999);  // unnormalised rows, half-precision activations
    }
  }
}

TEST_CASE("CUDA results do not depend on the batch a text is in, and shapes do not leak" *
          doctest::skip(!has_gpu)) {
  const SequenceEncoder encoder =
      SequenceEncoder::load(nowrec::test::model_dir(), cuda_options(Dtype::F16));
  const Fixture& f = fixture();
  const std::size_t dim = encoder.dim();
  const std::vector<std::string_view> one{f.texts[0]};
  const std::vector<float> alone = encoder.encode(one);
  std::mt19937 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::string_view> texts{f.texts[0]};
    const std::size_t extra = rng() % 80;
    for (std::size_t i = 0; i < extra; ++i) texts.push_back(f.texts[rng() % f.texts.size()]);
    std::shuffle(texts.begin(), texts.end(), rng);
    const std::vector<float> out = encoder.encode(texts);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].data() != f.texts[0].data()) continue;
      REQUIRE(cosine(out.data() + i * dim, alone.data(), dim) >= 0.9999);
    }
  }
}

TEST_CASE("CUDA encode_ids refuses bad sequences like the CPU path" * doctest::skip(!has_gpu)) {
  const SequenceEncoder encoder =
      SequenceEncoder::load(nowrec::test::model_dir(), cuda_options(Dtype::F16));
  std::vector<float> out(encoder.dim());
  const std::vector<std::int32_t> empty, bad{101, -1, 102};
  const std::vector<std::span<const std::int32_t>> empties{empty}, bads{bad};
  CHECK_THROWS_AS(encoder.encode_ids(empties, out), nowrec::Error);
  CHECK_THROWS_AS(encoder.encode_ids(bads, out), nowrec::Error);
  std::vector<float> wrong(encoder.dim() + 1);
  const std::vector<std::string_view> texts{"a"};
  CHECK_THROWS_AS(encoder.encode(texts, wrong), nowrec::Error);
}

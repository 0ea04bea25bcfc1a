// Encoder kernels of every supported ISA against double-precision references and the scalar
// variant, on random data and awkward lengths (tails shorter than a vector).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "cpu/attention_kernels.hpp"
#include "cpu/dispatch.hpp"
#include "nowrec/cpu_isa.hpp"

using nowrec::CpuIsa;
using nowrec::cpu::KernelTable;

namespace {

std::vector<CpuIsa> supported_isas() {
  std::vector<CpuIsa> isas;
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (nowrec::cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

std::vector<float> random_vector(std::mt19937& rng, std::size_t n, float spread = 2.0f) {
  std::uniform_real_distribution<float> dist(-spread, spread);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<float> grid(float lo, float hi, std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n - 1);
  }
  return x;
}

// Largest |got - want| / max(|want|, floor).
double worst_relative(const std::vector<float>& got, const std::vector<double>& want,
                      double floor) {
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(std::abs(want[i]), floor));
  }
  return worst;
}

std::vector<double> layer_norm_reference(const std::vector<double>& row,
                                         const std::vector<float>& gamma,
                                         const std::vector<float>& beta, double eps) {
  double mean = 0.0, variance = 0.0;
  for (double x : row) mean += x;
  mean /= static_cast<double>(row.size());
  for (double x : row) variance += (x - mean) * (x - mean);
  variance /= static_cast<double>(row.size());
  std::vector<double> out(row.size());
  for (std::size_t i = 0; i < row.size(); ++i) {
    out[i] = (row[i] - mean) / std::sqrt(variance + eps) * gamma[i] + beta[i];
  }
  return out;
}

double max_abs_diff(const std::vector<float>& got, const std::vector<double>& want) {
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
  }
  return worst;
}

const std::size_t kLengths[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 100, 384, 1000};

}  // namespace

TEST_CASE("vector exp, erf and tanh are accurate to a few units in the last place") {
  const auto x_exp = grid(-87.0f, 88.0f, 200003);
  const auto x_erf = grid(-6.0f, 6.0f, 200003);
  const auto x_tanh = grid(-12.0f, 12.0f, 200003);
  std::vector<double> want_exp, want_erf, want_tanh;
  for (float x : x_exp) want_exp.push_back(std::exp(static_cast<double>(x)));
  for (float x : x_erf) want_erf.push_back(std::erf(static_cast<double>(x)));
  for (float x : x_tanh) want_tanh.push_back(std::tanh(static_cast<double>(x)));
  for (CpuIsa isa : supported_isas()) {
    CAPTURE(nowrec::cpu_isa_name(isa));
    const KernelTable& k = nowrec::cpu::kernels_for(isa);
    std::vector<float> y(x_exp.size());
    k.exp_values(x_exp.data(), y.data(), y.size());
    CHECK(worst_relative(y, want_exp, 1e-37) < 3e-7);
    k.erf_values(x_erf.data(), y.data(), y.size());
    CHECK(worst_relative(y, want_erf, 1e-30) < 3e-7);
    k.tanh_values(x_tanh.data(), y.data(), y.size());
    CHECK(worst_relative(y, want_tanh, 1e-30) < 3e-7);
  }
}

TEST_CASE("bias + GELU (erf and tanh forms) match the formula in double precision") {
  std::mt19937 rng(7);
  for (CpuIsa isa : supported_isas()) {
    CAPTURE(nowrec::cpu_isa_name(isa));
    const KernelTable& k = nowrec::cpu::kernels_for(isa);
    for (std::size_t n : kLengths) {
      CAPTURE(n);
      const auto x = random_vector(rng, n, 6.0f);
      const auto bias = random_vector(rng, n, 1.0f);
      std::vector<double> want_erf(n), want_tanh(n);
      for (std::size_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(x[i]) + bias[i];
        want_erf[i] = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
        const double inner = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
        want_tanh[i] = 0.5 * v * (1.0 + std::tanh(inner));
      }
      auto y = x;
      k.bias_gelu_erf(y.data(), bias.data(), n);
      CHECK(max_abs_diff(y, want_erf) < 2e-6);
      y = x;
      k.bias_gelu_tanh(y.data(), bias.data(), n);
      CHECK(max_abs_diff(y, want_tanh) < 2e-6);
    }
  }
}

TEST_CASE("embedding sum + LayerNorm and bias + residual + LayerNorm match the reference") {
  std::mt19937 rng(11);
  for (CpuIsa isa : supported_isas()) {
    CAPTURE(nowrec::cpu_isa_name(isa));
    const KernelTable& k = nowrec::cpu::kernels_for(isa);
    for (std::size_t n : kLengths) {
      CAPTURE(n);
      const auto a = random_vector(rng, n), b = random_vector(rng, n), c = random_vector(rng, n);
      const auto gamma = random_vector(rng, n), beta = random_vector(rng, n);
      std::vector<double> sum(n);
      for (std::size_t i = 0; i < n; ++i) sum[i] = double(a[i]) + double(b[i]) + double(c[i]);
      const auto want = layer_norm_reference(sum, gamma, beta, 1e-12);

      std::vector<float> out(n);
      k.embedding_layer_norm(a.data(), b.data(), c.data(), gamma.data(), beta.data(), 1e-12f,
                             out.data(), n);
      CHECK(max_abs_diff(out, want) < 1e-5);

      // In place on the residual, as the encoder runs it.
      auto residual = c;
      k.bias_residual_layer_norm(a.data(), b.data(), residual.data(), gamma.data(), beta.data(),
                                 1e-12f, residual.data(), n);
      CHECK(max_abs_diff(residual, want) < 1e-5);
    }
  }
}

TEST_CASE("attention for one head matches softmax(QK^T/sqrt d)V in double precision") {
  std::mt19937 rng(13);
  for (CpuIsa isa : supported_isas()) {
    CAPTURE(nowrec::cpu_isa_name(isa));
    const KernelTable& k = nowrec::cpu::kernels_for(isa);
    for (std::size_t head_dim : {32u, 64u, 20u}) {
      for (std::size_t length : {1u, 2u, 9u, 16u, 17u, 64u, 130u}) {
        for (bool causal : {false, true}) {
          CAPTURE(causal);
          CAPTURE(head_dim);
          CAPTURE(length);
          const std::size_t heads = 3, hidden = heads * head_dim, stride = 3 * hidden;
          // Large spread: softmax must subtract the maximum to stay finite.
          const auto qkv = random_vector(rng, length * stride, 4.0f);
          const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
          std::vector<float> scratch(nowrec::cpu::attention_scratch_floats(length, head_dim));
          std::vector<float> out(length * hidden, -1.0f);
          const std::size_t head = 1;
          const float* q = qkv.data() + head * head_dim;
          (causal ? k.causal_attention_head : k.attention_head)(
              q, q + hidden, q + 2 * hidden, stride, length, head_dim, scale, scratch.data(),
              out.data() + head * head_dim, hidden);

          double worst = 0.0;
          for (std::size_t i = 0; i < length; ++i) {
            const std::size_t seen = causal ? i + 1 : length;  // keys query i attends to
            std::vector<double> p(seen);
            double top = -1e300, total = 0.0;
            for (std::size_t j = 0; j < seen; ++j) {
              double dot = 0.0;
              for (std::size_t c = 0; c < head_dim; ++c) {
                dot += double(q[i * stride + c]) * double(q[j * stride + hidden + c]);
              }
              p[j] = dot / std::sqrt(double(head_dim));
              top = std::max(top, p[j]);
            }
            for (double& x : p) total += (x = std::exp(x - top));
            for (std::size_t c = 0; c < head_dim; ++c) {
              double want = 0.0;
              for (std::size_t j = 0; j < seen; ++j) {
                want += p[j] / total * double(q[j * stride + 2 * hidden + c]);
              }
              worst = std::max(worst, std::abs(out[i * hidden + head * head_dim + c] - want));
            }
            // Other heads' columns are untouched.
            CHECK(out[i * hidden] == -1.0f);
            CHECK(out[i * hidden + hidden - 1] == -1.0f);
          }
          CHECK(worst < 2e-5);
        }
      }
    }
  }
}

TEST_CASE("mean and max pooling over rows match the reference") {
  std::mt19937 rng(17);
  for (CpuIsa isa : supported_isas()) {
    CAPTURE(nowrec::cpu_isa_name(isa));
    const KernelTable& k = nowrec::cpu::kernels_for(isa);
    for (std::size_t n : kLengths) {
      for (std::size_t count : {1u, 2u, 13u}) {
        CAPTURE(n);
        CAPTURE(count);
        const std::size_t stride = n + 5;
        const auto rows = random_vector(rng, count * stride);
        std::vector<double> mean(n, 0.0), top(n, -1e300);
        for (std::size_t r = 0; r < count; ++r) {
          for (std::size_t c = 0; c < n; ++c) {
            mean[c] += rows[r * stride + c] / double(count);
            top[c] = std::max(top[c], double(rows[r * stride + c]));
          }
        }
        std::vector<float> out(n);
        k.sum_rows(rows.data(), count, stride, n, static_cast<float>(count), out.data());
        CHECK(max_abs_diff(out, mean) < 1e-6);
        k.max_rows(rows.data(), count, stride, n, out.data());
        CHECK(max_abs_diff(out, top) == 0.0);
      }
    }
  }
}

TEST_CASE("every encoder kernel of every ISA agrees with the scalar variant") {
  std::mt19937 rng(19);
  const KernelTable& scalar = nowrec::cpu::kernels_for(CpuIsa::Scalar);
  auto agree = [](const std::vector<float>& got, const std::vector<float>& want, double tolerance) {
    double worst = 0.0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      worst = std::max(worst, std::abs(double(got[i]) - double(want[i])));
    }
    CHECK(worst <= tolerance);
  };
  for (CpuIsa isa : supported_isas()) {
    CAPTURE(nowrec::cpu_isa_name(isa));
    const KernelTable& k = nowrec::cpu::kernels_for(isa);
    for (std::size_t n : kLengths) {
      CAPTURE(n);
      const auto a = random_vector(rng, n, 5.0f), b = random_vector(rng, n);
      const auto c = random_vector(rng, n), gamma = random_vector(rng, n);
      std::vector<float> got(n), want(n);

      k.embedding_layer_norm(a.data(), b.data(), c.data(), gamma.data(), b.data(), 1e-12f,
                             got.data(), n);
      scalar.embedding_layer_norm(a.data(), b.data(), c.data(), gamma.data(), b.data(), 1e-12f,
                                  want.data(), n);
      agree(got, want, 1e-5);

      k.bias_residual_layer_norm(a.data(), b.data(), c.data(), gamma.data(), b.data(), 1e-12f,
                                 got.data(), n);
      scalar.bias_residual_layer_norm(a.data(), b.data(), c.data(), gamma.data(), b.data(), 1e-12f,
                                      want.data(), n);
      agree(got, want, 1e-5);

      got = a;
      want = a;
      k.bias_gelu_erf(got.data(), b.data(), n);
      scalar.bias_gelu_erf(want.data(), b.data(), n);
      agree(got, want, 2e-6);
      got = a;
      want = a;
      k.bias_gelu_tanh(got.data(), b.data(), n);
      scalar.bias_gelu_tanh(want.data(), b.data(), n);
      agree(got, want, 2e-6);

      const std::size_t rows = 5, stride = n + 3;
      const auto block = random_vector(rng, rows * stride);
      k.sum_rows(block.data(), rows, stride, n, 5.0f, got.data());
      scalar.sum_rows(block.data(), rows, stride, n, 5.0f, want.data());
      agree(got, want, 1e-6);
      k.max_rows(block.data(), rows, stride, n, got.data());
      scalar.max_rows(block.data(), rows, stride, n, want.data());
      agree(got, want, 0.0);
    }
    for (std::size_t length : {1u, 5u, 33u, 200u}) {
      CAPTURE(length);
      const std::size_t head_dim = 32, hidden = 4 * head_dim, stride = 3 * hidden;
      const auto qkv = random_vector(rng, length * stride, 3.0f);
      std::vector<float> scratch(nowrec::cpu::attention_scratch_floats(length, head_dim));
      std::vector<float> got(length * hidden), want(length * hidden);
      for (std::size_t h = 0; h < 4; ++h) {
        const float* q = qkv.data() + h * head_dim;
        k.attention_head(q, q + hidden, q + 2 * hidden, stride, length, head_dim, 0.17f,
                         scratch.data(), got.data() + h * head_dim, hidden);
        scalar.attention_head(q, q + hidden, q + 2 * hidden, stride, length, head_dim, 0.17f,
                              scratch.data(), want.data() + h * head_dim, hidden);
      }
      agree(got, want, 1e-5);
      for (std::size_t h = 0; h < 4; ++h) {
        const float* q = qkv.data() + h * head_dim;
        k.causal_attention_head(q, q + hidden, q + 2 * hidden, stride, length, head_dim, 0.17f,
                                scratch.data(), got.data() + h * head_dim, hidden);
        scalar.causal_attention_head(q, q + hidden, q + 2 * hidden, stride, length, head_dim, 0.17f,
                                     scratch.data(), want.data() + h * head_dim, hidden);
      }
      agree(got, want, 1e-5);
    }
  }
}

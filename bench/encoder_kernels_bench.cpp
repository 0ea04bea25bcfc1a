// Google Benchmark of the encoder's CPU kernels for every ISA variant this CPU runs, at
// all-MiniLM-L6-v2's shapes (hidden 384, 12 heads of 32, intermediate 1536).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "cpu/attention_kernels.hpp"
#include "cpu/dispatch.hpp"
#include "nowrec/cpu_isa.hpp"

namespace {

using nowrec::CpuIsa;

constexpr std::size_t kHidden = 384, kHeadDim = 32, kInner = 1536;

std::vector<float> random_values(std::size_t n, float spread) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-spread, spread);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

const nowrec::cpu::KernelTable& table(const benchmark::State& state) {
  return nowrec::cpu::kernels_for(static_cast<CpuIsa>(state.range(0)));
}

// One head of one sequence of state.range(1) tokens.
void attention_head(benchmark::State& state) {
  const auto& k = table(state);
  const std::size_t length = static_cast<std::size_t>(state.range(1));
  const auto qkv = random_values(length * 3 * kHidden, 2.0f);
  std::vector<float> scratch(nowrec::cpu::attention_scratch_floats(length, kHeadDim));
  std::vector<float> out(length * kHidden);
  for (auto _ : state) {
    k.attention_head(qkv.data(), qkv.data() + kHidden, qkv.data() + 2 * kHidden, 3 * kHidden,
                     length, kHeadDim, 0.17f, scratch.data(), out.data(), kHidden);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(length));
}

// One token's intermediate activation.
void bias_gelu_erf(benchmark::State& state) {
  const auto& k = table(state);
  auto x = random_values(kInner, 4.0f);
  const auto bias = random_values(kInner, 0.1f);
  for (auto _ : state) {
    k.bias_gelu_erf(x.data(), bias.data(), kInner);
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kInner));
}

// One token's residual + LayerNorm.
void bias_residual_layer_norm(benchmark::State& state) {
  const auto& k = table(state);
  const auto x = random_values(kHidden, 2.0f), bias = random_values(kHidden, 0.1f);
  const auto gamma = random_values(kHidden, 1.0f), beta = random_values(kHidden, 0.1f);
  auto residual = random_values(kHidden, 2.0f);
  for (auto _ : state) {
    k.bias_residual_layer_norm(x.data(), bias.data(), residual.data(), gamma.data(), beta.data(),
                               1e-12f, residual.data(), kHidden);
    benchmark::DoNotOptimize(residual.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kHidden));
}

void register_all() {
  for (CpuIsa isa : {CpuIsa::Scalar, CpuIsa::Avx2, CpuIsa::Avx512}) {
    if (!nowrec::cpu_supports(isa)) continue;
    const std::string name(nowrec::cpu_isa_name(isa));
    const auto id = static_cast<std::int64_t>(isa);
    for (std::int64_t length : {16, 64, 256}) {
      benchmark::RegisterBenchmark(("attention_head/" + name).c_str(), attention_head)
          ->Args({id, length});
    }
    benchmark::RegisterBenchmark(("bias_gelu_erf/" + name).c_str(), bias_gelu_erf)->Args({id});
    benchmark::RegisterBenchmark(("bias_residual_layer_norm/" + name).c_str(),
                                 bias_residual_layer_norm)
        ->Args({id});
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

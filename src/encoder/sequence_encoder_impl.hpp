// What a SequenceEncoder holds once loaded: the CPU encoder or the CUDA one, each with its
// tokenizer.
#pragma once

#include <memory>
#include <optional>

#include "cpu/dispatch.hpp"
#include "encoder/cpu_encoder.hpp"
#include "encoder/gpu_encoder.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec {

struct SequenceEncoder::Impl {
  std::optional<encoder::CpuEncoder> cpu;     // Device::CPU
  std::unique_ptr<encoder::GpuEncoder> gpu;   // Device::CUDA

  bool has_tokenizer() const noexcept { return cpu ? cpu->has_tokenizer() : gpu->has_tokenizer(); }
  const Tokenizer& tokenizer() const { return cpu ? cpu->tokenizer() : gpu->tokenizer(); }
};

}  // namespace nowrec

// What a SequenceEncoder holds once loaded: the CPU encoder and its tokenizer.
#pragma once

#include "cpu/dispatch.hpp"
#include "encoder/cpu_encoder.hpp"
#include "nowrec/sequence_encoder.hpp"

namespace nowrec {

struct SequenceEncoder::Impl {
  Impl(const ModelFolder& model, int threads, const cpu::KernelTable& kernels)
      : cpu(model, threads, kernels) {}

  encoder::CpuEncoder cpu;
};

}  // namespace nowrec

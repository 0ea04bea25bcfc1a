// The one check of pre-tokenized input shared by the CPU and CUDA encoders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace nowrec::detail {

// Throws Error(InvalidArgument) naming the first sequence that is empty, holds more than
// max_length tokens, or holds an id outside [0, vocab_size). Returns the total token count.
std::size_t check_token_sequences(std::span<const std::span<const std::int32_t>> sequences,
                                  std::size_t max_length, std::size_t vocab_size);

}  // namespace nowrec::detail

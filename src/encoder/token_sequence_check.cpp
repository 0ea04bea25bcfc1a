// Validation of pre-tokenized encoder input, with errors that name the sequence and position.
#include "encoder/token_sequence_check.hpp"

#include <string>

#include "nowrec/error.hpp"

namespace nowrec::detail {

std::size_t check_token_sequences(std::span<const std::span<const std::int32_t>> sequences,
                                  std::size_t max_length, std::size_t vocab_size) {
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const auto& sequence = sequences[i];
    auto refuse = [&](const std::string& why) {
      throw Error(ErrorCode::InvalidArgument,
                  "SequenceEncoder::encode_ids: sequence " + std::to_string(i) + " " + why);
    };
    if (sequence.empty()) refuse("is empty");
    if (sequence.size() > max_length) {
      refuse("has " + std::to_string(sequence.size()) + " tokens; the model takes at most " +
             std::to_string(max_length));
    }
    for (std::size_t t = 0; t < sequence.size(); ++t) {
      if (sequence[t] < 0 || static_cast<std::size_t>(sequence[t]) >= vocab_size) {
        refuse("holds id " + std::to_string(sequence[t]) + " at position " + std::to_string(t) +
               ", outside the vocabulary of " + std::to_string(vocab_size));
      }
    }
    tokens += sequence.size();
  }
  return tokens;
}

}  // namespace nowrec::detail

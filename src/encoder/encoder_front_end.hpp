// What every encoder does before its forward pass, on any device: check the caller's input and
// output, tokenize and pack sequences end to end, and cut the packed batch into chunks of a
// bounded token count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "nowrec/model_folder.hpp"
#include "nowrec/tokenizer.hpp"

namespace nowrec::encoder {

// Sequences laid end to end: sequence s is rows [offsets[s], offsets[s + 1]) of `ids` (token
// ids) or of `vectors` (input vectors of the model's width), whichever the batch was packed
// from. Reused between calls, so a warm batch allocates nothing.
struct PackedSequences {
  std::vector<std::int32_t> ids;
  std::vector<float> vectors;
  std::vector<std::size_t> offsets;        // sequences + 1 entries, offsets[0] == 0
  std::vector<std::int32_t> sequence_ids;  // the tokenizer's output for one text
  bool from_vectors = false;               // packed by pack_vectors

  std::size_t sequences() const noexcept { return offsets.empty() ? 0 : offsets.size() - 1; }
  std::size_t tokens() const noexcept { return offsets.empty() ? 0 : offsets.back(); }
  std::size_t length(std::size_t s) const noexcept { return offsets[s + 1] - offsets[s]; }
  std::size_t reserved_bytes() const noexcept;
};

// Tokenizes `texts` (truncated to max_length tokens, special tokens added) into `packed`.
void pack_texts(const Tokenizer& tokenizer, std::span<const std::string_view> texts,
                std::size_t max_length, PackedSequences& packed);
// Copies token-id sequences (checked by check_token_sequences) into `packed`.
void pack_ids(std::span<const std::span<const std::int32_t>> sequences, PackedSequences& packed);
// Copies vector sequences (checked by check_vector_sequences) into `packed`.
void pack_vectors(std::span<const std::span<const float>> sequences, std::size_t dim,
                  PackedSequences& packed);

// Throws Error(InvalidArgument) naming the first sequence that is empty, holds more than
// max_length tokens, or holds an id outside [0, vocab_size). Returns the total token count.
std::size_t check_token_sequences(std::span<const std::span<const std::int32_t>> sequences,
                                  std::size_t max_length, std::size_t vocab_size);

// Throws Error(InvalidArgument) naming the first sequence that is empty, is not a whole number
// of dim-wide vectors, holds more than max_length vectors, or holds a NaN or infinity. Returns
// the total vector count.
std::size_t check_vector_sequences(std::span<const std::span<const float>> sequences,
                                   std::size_t dim, std::size_t max_length);

// Throws Error(InvalidArgument) unless out holds rows * dim floats; `method` names the
// SequenceEncoder method in the message.
void check_out_size(const char* method, std::size_t rows, std::size_t dim, std::size_t got);

// The folder's tokenizer, or nothing for a folder without tokenizer files (a model that takes
// vector sequences only). Throws Error(InvalidModel) when the tokenizer can produce ids the
// embedding table of vocab_size rows lacks.
std::optional<Tokenizer> load_tokenizer(const ModelFolder& model, std::size_t vocab_size);

// The tokenizer, or Error(Unsupported) saying that this model encodes vector sequences only.
const Tokenizer& require_tokenizer(const std::optional<Tokenizer>& tokenizer);

// Splits sequences (by length, in order) into consecutive chunks of at most max_tokens tokens
// and max_tokens sequences each (a sequence may be empty). Every length must be at most
// max_tokens. Writes the chunk boundaries to `boundaries`: indices of first sequences, then
// lengths.size() (nothing for no sequences).
void chunk_boundaries(std::span<const std::size_t> lengths, std::size_t max_tokens,
                      std::vector<std::size_t>& boundaries);
std::vector<std::size_t> chunk_boundaries(std::span<const std::size_t> lengths,
                                          std::size_t max_tokens);

}  // namespace nowrec::encoder

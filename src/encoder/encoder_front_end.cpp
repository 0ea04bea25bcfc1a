// The encoders' shared front end: checks with errors that name the sequence and position,
// packing, and chunking.
#include "encoder/encoder_front_end.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "nowrec/error.hpp"

namespace nowrec::encoder {
namespace {

void start(PackedSequences& packed, bool from_vectors) {
  packed.ids.clear();
  packed.vectors.clear();
  packed.offsets.assign(1, 0);
  packed.from_vectors = from_vectors;
}

}  // namespace

std::size_t PackedSequences::reserved_bytes() const noexcept {
  return ids.capacity() * sizeof(std::int32_t) + vectors.capacity() * sizeof(float) +
         offsets.capacity() * sizeof(std::size_t) + sequence_ids.capacity() * sizeof(std::int32_t);
}

void pack_texts(const Tokenizer& tokenizer, std::span<const std::string_view> texts,
                std::size_t max_length, PackedSequences& packed) {
  TokenizeOptions options;
  options.max_length = max_length;
  options.truncate = true;
  start(packed, false);
  for (std::string_view text : texts) {
    tokenizer.encode_ids(text, packed.sequence_ids, options);
    packed.ids.insert(packed.ids.end(), packed.sequence_ids.begin(), packed.sequence_ids.end());
    packed.offsets.push_back(packed.ids.size());
  }
}

void pack_ids(std::span<const std::span<const std::int32_t>> sequences, PackedSequences& packed) {
  start(packed, false);
  for (const auto& sequence : sequences) {
    packed.ids.insert(packed.ids.end(), sequence.begin(), sequence.end());
    packed.offsets.push_back(packed.ids.size());
  }
}

void pack_vectors(std::span<const std::span<const float>> sequences, std::size_t dim,
                  PackedSequences& packed) {
  start(packed, true);
  for (const auto& sequence : sequences) {
    packed.vectors.insert(packed.vectors.end(), sequence.begin(), sequence.end());
    packed.offsets.push_back(packed.vectors.size() / dim);
  }
}

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

std::size_t check_vector_sequences(std::span<const std::span<const float>> sequences,
                                   std::size_t dim, std::size_t max_length) {
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const std::size_t floats = sequences[i].size();
    auto refuse = [&](const std::string& why) {
      throw Error(ErrorCode::InvalidArgument,
                  "SequenceEncoder::encode_vectors: sequence " + std::to_string(i) + " " + why);
    };
    if (floats == 0) refuse("is empty");
    if (floats % dim != 0) {
      refuse("holds " + std::to_string(floats) + " floats, not a multiple of dim " +
             std::to_string(dim));
    }
    if (floats / dim > max_length) {
      refuse("has " + std::to_string(floats / dim) + " vectors; the model takes at most " +
             std::to_string(max_length));
    }
    const auto bad = std::find_if(sequences[i].begin(), sequences[i].end(),
                                  [](float x) { return !std::isfinite(x); });
    if (bad != sequences[i].end()) {
      const auto at = static_cast<std::size_t>(bad - sequences[i].begin());
      refuse("holds a non-finite value at vector " + std::to_string(at / dim) + ", element " +
             std::to_string(at % dim));
    }
    tokens += floats / dim;
  }
  return tokens;
}

void check_out_size(const char* method, std::size_t rows, std::size_t dim, std::size_t got) {
  if (got != rows * dim) {
    throw Error(ErrorCode::InvalidArgument,
                std::string("SequenceEncoder::") + method + ": out holds " + std::to_string(got) +
                    " floats but " + std::to_string(rows) + " inputs of dim " +
                    std::to_string(dim) + " need " + std::to_string(rows * dim));
  }
}

std::optional<Tokenizer> load_tokenizer(const ModelFolder& model, std::size_t vocab_size) {
  if (!model.has_tokenizer()) return std::nullopt;
  std::optional<Tokenizer> tokenizer(Tokenizer::load(model));
  // Every id the tokenizer can produce must have a row in the embedding table.
  if (tokenizer->vocab_size() > vocab_size) {
    throw Error(ErrorCode::InvalidModel, model.path().string() + ": the tokenizer has " +
                                             std::to_string(tokenizer->vocab_size()) +
                                             " tokens but config.json's vocab_size is " +
                                             std::to_string(vocab_size));
  }
  return tokenizer;
}

const Tokenizer& require_tokenizer(const std::optional<Tokenizer>& tokenizer) {
  if (!tokenizer) {
    throw Error(ErrorCode::Unsupported,
                "this model has no tokenizer: its folder holds neither vocab.txt nor a "
                "SentencePiece model, so it encodes vector sequences only");
  }
  return *tokenizer;
}

void chunk_boundaries(std::span<const std::size_t> lengths, std::size_t max_tokens,
                      std::vector<std::size_t>& boundaries) {
  boundaries.clear();
  if (lengths.empty()) return;
  boundaries.push_back(0);
  std::size_t tokens = 0, sequences = 0;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] > max_tokens) {
      throw Error(ErrorCode::Internal,
                  "sequence " + std::to_string(i) + " has " + std::to_string(lengths[i]) +
                      " tokens, more than a chunk's " + std::to_string(max_tokens));
    }
    if (sequences > 0 && (tokens + lengths[i] > max_tokens || sequences == max_tokens)) {
      boundaries.push_back(i);
      tokens = 0;
      sequences = 0;
    }
    tokens += lengths[i];
    ++sequences;
  }
  boundaries.push_back(lengths.size());
}

std::vector<std::size_t> chunk_boundaries(std::span<const std::size_t> lengths,
                                          std::size_t max_tokens) {
  std::vector<std::size_t> boundaries;
  chunk_boundaries(lengths, max_tokens, boundaries);
  return boundaries;
}

}  // namespace nowrec::encoder

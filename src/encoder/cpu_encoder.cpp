// CpuEncoder: from texts or token ids to pooled embeddings, in bounded chunks of packed tokens.
#include "encoder/cpu_encoder.hpp"

#include <algorithm>
#include <string>

#include "encoder/thread_count.hpp"
#include "nowrec/error.hpp"

namespace nowrec::encoder {
namespace {

// Tokens per forward pass. Large enough that the matmuls run at full speed, small enough that
// scratch (10 * hidden floats a token for MiniLM: about 31 MB) stays modest.
constexpr std::size_t kChunkTokens = 2048;

void check_out_size(const char* method, std::size_t rows, std::size_t dim, std::size_t got) {
  if (got != rows * dim) {
    throw Error(ErrorCode::InvalidArgument,
                std::string("SequenceEncoder::") + method + ": out holds " + std::to_string(got) +
                    " floats but " + std::to_string(rows) + " inputs of dim " +
                    std::to_string(dim) + " need " + std::to_string(rows * dim));
  }
}

}  // namespace

CpuEncoder::CpuEncoder(const ModelFolder& model, int threads, const cpu::KernelTable& kernels,
                       MatmulPrecision precision)
    : tokenizer_(Tokenizer::load(model)),
      model_(model, kernels, resolve_thread_count(threads), precision),
      max_length_(model.max_sequence_length()) {
  // Every id the tokenizer can produce must have a row in the embedding table.
  if (tokenizer_.vocab_size() > model_.vocab_size()) {
    throw Error(ErrorCode::InvalidModel, model.path().string() + ": the tokenizer has " +
                                             std::to_string(tokenizer_.vocab_size()) +
                                             " tokens but config.json's vocab_size is " +
                                             std::to_string(model_.vocab_size()));
  }
}

template <typename SequenceIds>
void CpuEncoder::run(std::size_t count, std::span<float> out, SequenceIds&& sequence_ids) const {
  if (count == 0) return;
  ArenaPool::Lease arena = arenas_.acquire();
  std::vector<std::int32_t>& ids = arena->ids;
  std::vector<std::size_t>& offsets = arena->offsets;
  ids.clear();
  offsets.assign(1, 0);
  std::size_t first = 0;  // the chunk's first sequence
  std::size_t longest = 0;
  auto flush = [&](std::size_t end) {
    std::byte* scratch = arena->reserve(model_.scratch_bytes(ids.size(), longest));
    model_.forward(PackedBatch{ids, offsets}, scratch, out.data() + first * dim());
    first = end;
    longest = 0;
    ids.clear();
    offsets.assign(1, 0);
  };
  for (std::size_t i = 0; i < count; ++i) {
    const std::span<const std::int32_t> sequence = sequence_ids(i, *arena);
    if (!ids.empty() && ids.size() + sequence.size() > kChunkTokens) flush(i);
    ids.insert(ids.end(), sequence.begin(), sequence.end());
    offsets.push_back(ids.size());
    longest = std::max(longest, sequence.size());
  }
  flush(count);
}

void CpuEncoder::encode(std::span<const std::string_view> texts, std::span<float> out) const {
  check_out_size("encode", texts.size(), dim(), out.size());
  TokenizeOptions options;
  options.max_length = max_length_;
  options.truncate = true;
  run(texts.size(), out, [&](std::size_t i, ScratchArena& arena) {
    tokenizer_.encode_ids(texts[i], arena.sequence_ids, options);
    return std::span<const std::int32_t>(arena.sequence_ids);
  });
}

void CpuEncoder::encode_ids(std::span<const std::span<const std::int32_t>> sequences,
                            std::span<float> out) const {
  check_out_size("encode_ids", sequences.size(), dim(), out.size());
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const auto& sequence = sequences[i];
    auto refuse = [&](const std::string& why) {
      throw Error(ErrorCode::InvalidArgument,
                  "SequenceEncoder::encode_ids: sequence " + std::to_string(i) + " " + why);
    };
    if (sequence.empty()) refuse("is empty");
    if (sequence.size() > max_length_) {
      refuse("has " + std::to_string(sequence.size()) + " tokens; the model takes at most " +
             std::to_string(max_length_));
    }
    for (std::size_t t = 0; t < sequence.size(); ++t) {
      if (sequence[t] < 0 || static_cast<std::size_t>(sequence[t]) >= model_.vocab_size()) {
        refuse("holds id " + std::to_string(sequence[t]) + " at position " + std::to_string(t) +
               ", outside the vocabulary of " + std::to_string(model_.vocab_size()));
      }
    }
  }
  run(sequences.size(), out,
      [&](std::size_t i, ScratchArena&) { return std::span<const std::int32_t>(sequences[i]); });
}

}  // namespace nowrec::encoder

// CpuEncoder: from texts or token ids to pooled embeddings, in bounded chunks of packed tokens.
#include "encoder/cpu_encoder.hpp"
#include "encoder/token_sequence_check.hpp"

#include <algorithm>
#include <cmath>
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
    : model_(model, kernels, resolve_thread_count(threads), precision),
      max_length_(model.max_sequence_length()) {
  if (!model.has_tokenizer()) return;
  tokenizer_.emplace(Tokenizer::load(model));
  // Every id the tokenizer can produce must have a row in the embedding table.
  if (tokenizer_->vocab_size() > model_.vocab_size()) {
    throw Error(ErrorCode::InvalidModel, model.path().string() + ": the tokenizer has " +
                                             std::to_string(tokenizer_->vocab_size()) +
                                             " tokens but config.json's vocab_size is " +
                                             std::to_string(model_.vocab_size()));
  }
}

const Tokenizer& CpuEncoder::tokenizer() const {
  if (!tokenizer_) {
    throw Error(ErrorCode::Unsupported,
                "this model has no tokenizer: its folder holds neither vocab.txt nor a "
                "SentencePiece model, so it encodes vector sequences only");
  }
  return *tokenizer_;
}

template <typename Prepare, typename Append>
void CpuEncoder::run(std::size_t count, float* out, BertCpuModel::Output output, bool vectors,
                     bool causal, Prepare&& prepare, Append&& append) const {
  if (count == 0) return;
  ArenaPool::Lease arena = arenas_.acquire();
  std::vector<std::size_t>& offsets = arena->offsets;
  arena->ids.clear();
  arena->vectors.clear();
  offsets.assign(1, 0);
  std::size_t first = 0;  // the chunk's first sequence
  std::size_t longest = 0;
  auto flush = [&](std::size_t end) {
    const std::size_t tokens = offsets.back();
    std::byte* scratch = arena->reserve(model_.scratch_bytes(tokens, longest));
    const PackedBatch batch{arena->ids, offsets, vectors ? arena->vectors.data() : nullptr, causal};
    model_.forward(batch, scratch, out, output);
    out += (output == BertCpuModel::Output::Tokens ? tokens : end - first) * dim();
    first = end;
    longest = 0;
    arena->ids.clear();
    arena->vectors.clear();
    offsets.assign(1, 0);
  };
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t length = prepare(i, *arena);
    if (offsets.back() > 0 && offsets.back() + length > kChunkTokens) flush(i);
    append(i, *arena);
    offsets.push_back(offsets.back() + length);
    longest = std::max(longest, length);
  }
  flush(count);
}

namespace {

TokenizeOptions truncating(std::size_t max_length) {
  TokenizeOptions options;
  options.max_length = max_length;
  options.truncate = true;
  return options;
}

}  // namespace

void CpuEncoder::encode(std::span<const std::string_view> texts, std::span<float> out) const {
  const Tokenizer& tokenizer = this->tokenizer();
  check_out_size("encode", texts.size(), dim(), out.size());
  const TokenizeOptions options = truncating(max_length_);
  run(
      texts.size(), out.data(), BertCpuModel::Output::Pooled, false, false,
      [&](std::size_t i, ScratchArena& arena) {
        tokenizer.encode_ids(texts[i], arena.sequence_ids, options);
        return arena.sequence_ids.size();
      },
      [](std::size_t, ScratchArena& arena) {
        arena.ids.insert(arena.ids.end(), arena.sequence_ids.begin(), arena.sequence_ids.end());
      });
}

void CpuEncoder::encode_tokens(std::span<const std::string_view> texts, std::vector<float>& out,
                               std::vector<std::size_t>& offsets) const {
  const Tokenizer& tokenizer = this->tokenizer();
  // Tokenizing twice is cheap beside the forward pass, and sizes out exactly.
  const TokenizeOptions options = truncating(max_length_);
  offsets.assign(1, 0);
  std::vector<std::int32_t> ids;
  for (std::string_view text : texts) {
    tokenizer.encode_ids(text, ids, options);
    offsets.push_back(offsets.back() + ids.size());
  }
  out.assign(offsets.back() * dim(), 0.0f);
  run(
      texts.size(), out.data(), BertCpuModel::Output::Tokens, false, false,
      [&](std::size_t i, ScratchArena& arena) {
        tokenizer.encode_ids(texts[i], arena.sequence_ids, options);
        return arena.sequence_ids.size();
      },
      [](std::size_t, ScratchArena& arena) {
        arena.ids.insert(arena.ids.end(), arena.sequence_ids.begin(), arena.sequence_ids.end());
      });
}

void CpuEncoder::encode_ids(std::span<const std::span<const std::int32_t>> sequences,
                            std::span<float> out, BertCpuModel::Output output) const {
  const std::size_t tokens =
      detail::check_token_sequences(sequences, max_length_, model_.vocab_size());
  const bool per_token = output == BertCpuModel::Output::Tokens;
  check_out_size("encode_ids", per_token ? tokens : sequences.size(), dim(), out.size());
  run(
      sequences.size(), out.data(), output, false, false,
      [&](std::size_t i, ScratchArena&) { return sequences[i].size(); },
      [&](std::size_t i, ScratchArena& arena) {
        arena.ids.insert(arena.ids.end(), sequences[i].begin(), sequences[i].end());
      });
}

void CpuEncoder::encode_vectors(std::span<const std::span<const float>> sequences, bool causal,
                                std::span<float> out, BertCpuModel::Output output) const {
  std::size_t tokens = 0;
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const std::size_t floats = sequences[i].size();
    auto refuse = [&](const std::string& why) {
      throw Error(ErrorCode::InvalidArgument,
                  "SequenceEncoder::encode_vectors: sequence " + std::to_string(i) + " " + why);
    };
    if (floats == 0) refuse("is empty");
    if (floats % dim() != 0) {
      refuse("holds " + std::to_string(floats) + " floats, not a multiple of dim " +
             std::to_string(dim()));
    }
    if (floats / dim() > max_length_) {
      refuse("has " + std::to_string(floats / dim()) + " vectors; the model takes at most " +
             std::to_string(max_length_));
    }
    const auto bad = std::find_if(sequences[i].begin(), sequences[i].end(),
                                  [](float x) { return !std::isfinite(x); });
    if (bad != sequences[i].end()) {
      const std::size_t at = std::size_t(bad - sequences[i].begin());
      refuse("holds a non-finite value at vector " + std::to_string(at / dim()) + ", element " +
             std::to_string(at % dim()));
    }
    tokens += floats / dim();
  }
  const bool per_token = output == BertCpuModel::Output::Tokens;
  check_out_size("encode_vectors", per_token ? tokens : sequences.size(), dim(), out.size());
  run(
      sequences.size(), out.data(), output, true, causal,
      [&](std::size_t i, ScratchArena&) { return sequences[i].size() / dim(); },
      [&](std::size_t i, ScratchArena& arena) {
        arena.vectors.insert(arena.vectors.end(), sequences[i].begin(), sequences[i].end());
      });
}

}  // namespace nowrec::encoder

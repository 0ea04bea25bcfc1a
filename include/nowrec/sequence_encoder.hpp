// SequenceEncoder: a BERT-family transformer encoder loaded from a model folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nowrec/device.hpp"
#include "nowrec/model_folder.hpp"
#include "nowrec/tokenizer.hpp"

namespace nowrec {

// Number format of an encoder's weights and activations. Accumulation is fp32 throughout.
enum class Dtype {
  Default,  // F32 on the CPU, F16 on CUDA
  F32,      // CPU only
  F16,      // CUDA only
  BF16,     // CPU (see EncoderInfo::cpu_matmul) and CUDA
};

std::string_view dtype_name(Dtype dtype) noexcept;

// A CUDA stream (a cudaStream_t) passed without CUDA headers; a null handle is the default
// stream.
struct CudaStream {
  void* handle = nullptr;
};

struct EncoderOptions {
  Device device = Device::CPU;
  int threads = 0;  // threads of each encode call on the CPU; 0: all cores; at most kMaxThreads
  Dtype dtype = Dtype::Default;
};

// Which tokens of a vector sequence attend to which (see SequenceEncoder::encode_vectors).
enum class AttentionMask {
  Bidirectional,  // every token to every token of its sequence, as for texts
  Causal,         // token t to tokens 0..t of its sequence only
};

// Per-token hidden states of a batch: the rows of sequence s are [offsets[s], offsets[s + 1])
// of `values`, a row-major [offsets.back()][dim] matrix.
struct TokenStates {
  std::vector<float> values;
  std::vector<std::size_t> offsets;  // sequences + 1 entries, offsets[0] == 0
};

// What a loaded encoder is.
struct EncoderInfo {
  std::string model_type;
  std::size_t dim = 0;  // embedding width
  int layers = 0;
  int heads = 0;
  std::size_t max_length = 0;
  PoolingConfig pooling;
  Device device = Device::CPU;
  Dtype dtype = Dtype::F32;  // as resolved from EncoderOptions::dtype
  // How the CPU encoder's matmuls run: "f32"; "bf16" (oneDNN's bf16 kernels, on AVX512_BF16 or
  // AMX); or "bf16 weights, f32 compute", the bf16 fallback on other CPUs. Empty for CUDA.
  std::string cpu_matmul;
};

// Loading validates that the folder holds a model nowrec can run: a supported architecture and
// activation, and every weight tensor present with the shape config.json implies. It then packs
// the weights for the CPU (fp32, or bf16 for Dtype::BF16) and loads the folder's tokenizer.
//
// Encoding follows the folder's sentence-transformers modules: the transformer, its pooling
// (1_Pooling/config.json) and, when modules.json lists it, L2 normalisation. A batch is packed
// without padding, so its texts may differ in length at no cost.
//
// With Device::CUDA, load() uploads the weights once to the current CUDA device in fp16 or bf16
// and plans all device memory; encode calls then allocate nothing on the device. It throws
// Error(DeviceUnavailable) ("no CUDA device") in a build without CUDA or on a machine without a
// GPU, and Error(Unsupported) for a dtype the device does not run.
//
// Thread-safety: const methods may be called concurrently; each CPU call uses `threads`
// threads, and CUDA calls on one encoder run one after another. Copies share the loaded model
// and are cheap.
class SequenceEncoder {
 public:
  static SequenceEncoder load(const std::filesystem::path& model_dir,
                              const EncoderOptions& options = {});
  static SequenceEncoder load(const ModelFolder& model, const EncoderOptions& options = {});

  std::size_t dim() const noexcept { return info_.dim; }
  const EncoderInfo& info() const noexcept { return info_; }
  // False for a model folder without tokenizer files, which takes vector sequences only: its
  // tokenizer(), encode() and encode_tokens() throw Error(Unsupported).
  bool has_tokenizer() const noexcept;
  const Tokenizer& tokenizer() const;

  // Embeds each text (tokenized with tokenizer(), truncated to info().max_length tokens) into
  // out: texts.size() rows of dim() floats, row-major. Throws Error(InvalidArgument) when
  // out.size() != texts.size() * dim().
  void encode(std::span<const std::string_view> texts, std::span<float> out) const;
  std::vector<float> encode(std::span<const std::string_view> texts) const;

  // Embeds pre-tokenized sequences (the model's ids, special tokens included) likewise. Throws
  // Error(InvalidArgument) for a wrong out size, an empty sequence, one longer than
  // info().max_length, or an id outside the vocabulary.
  void encode_ids(std::span<const std::span<const std::int32_t>> sequences,
                  std::span<float> out) const;
  std::vector<float> encode_ids(std::span<const std::span<const std::int32_t>> sequences) const;

  // The same on an encoder loaded for CUDA, with the device work queued on `stream` (the
  // caller's cudaStream_t); they return once out (host memory) is filled. Throws
  // Error(InvalidArgument) when a non-null stream is given to a CPU encoder.
  void encode(std::span<const std::string_view> texts, std::span<float> out,
              CudaStream stream) const;
  void encode_ids(std::span<const std::span<const std::int32_t>> sequences, std::span<float> out,
                  CudaStream stream) const;

  // The last layer's hidden state of every token (before pooling), for texts tokenized and
  // truncated as encode() does them, or for pre-tokenized sequences checked as encode_ids()
  // checks them. On CUDA, these and the vector-sequence methods below run on the default
  // stream.
  TokenStates encode_tokens(std::span<const std::string_view> texts) const;
  TokenStates encode_ids_tokens(std::span<const std::span<const std::int32_t>> sequences) const;

  // Vector-sequence input: each sequence is [length][dim()] floats, row-major, that take the
  // place of the word embeddings. Exactly as transformers' BertModel(inputs_embeds=...) with
  // token_type_ids all 0: token t of a sequence becomes
  //   LayerNorm(input_t + position_embeddings[t] + token_type_embeddings[0])
  // (RoBERTa-family models number positions from pad_token_id + 1, as for texts), and then runs
  // through every layer with `mask`: Causal matches BertModel with config.is_decoder = True and
  // no padding. encode_vectors pools each sequence as encode() does (the folder's pooling and
  // normalisation) into out, sequences.size() rows of dim() floats; encode_vectors_tokens
  // returns every token's hidden state. Throws Error(InvalidArgument) for a wrong out size, an
  // empty sequence, one whose size is not a multiple of dim(), one longer than
  // info().max_length, or a non-finite value (naming the sequence, vector and element).
  void encode_vectors(std::span<const std::span<const float>> sequences, AttentionMask mask,
                      std::span<float> out) const;
  std::vector<float> encode_vectors(std::span<const std::span<const float>> sequences,
                                    AttentionMask mask) const;
  TokenStates encode_vectors_tokens(std::span<const std::span<const float>> sequences,
                                    AttentionMask mask) const;

  struct Impl;

 private:
  static std::shared_ptr<const Impl> make_impl(const ModelFolder& model,
                                               const EncoderOptions& options);

  EncoderInfo info_;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace nowrec

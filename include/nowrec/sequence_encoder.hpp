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

struct EncoderOptions {
  Device device = Device::CPU;
  int threads = 0;  // threads of each encode call; 0: all cores
};

// What a loaded encoder is.
struct EncoderInfo {
  std::string model_type;
  std::size_t dim = 0;  // embedding width
  int layers = 0;
  int heads = 0;
  std::size_t max_length = 0;
  PoolingConfig pooling;
};

// Loading validates that the folder holds a model nowrec can run: a supported architecture and
// activation, and every weight tensor present with the shape config.json implies. It then packs
// the weights for the CPU (fp32) and loads the folder's tokenizer.
//
// Encoding follows the folder's sentence-transformers modules: the transformer, its pooling
// (1_Pooling/config.json) and, when modules.json lists it, L2 normalisation. A batch is packed
// without padding, so its texts may differ in length at no cost.
//
// Thread-safety: const methods may be called concurrently; each call uses `threads` threads.
// Copies share the loaded model and are cheap.
class SequenceEncoder {
 public:
  static SequenceEncoder load(const std::filesystem::path& model_dir,
                              const EncoderOptions& options = {});
  static SequenceEncoder load(const ModelFolder& model, const EncoderOptions& options = {});

  std::size_t dim() const noexcept { return info_.dim; }
  const EncoderInfo& info() const noexcept { return info_; }
  const Tokenizer& tokenizer() const noexcept;

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

  struct Impl;

 private:
  static std::shared_ptr<const Impl> make_impl(const ModelFolder& model,
                                               const EncoderOptions& options);

  EncoderInfo info_;
  std::shared_ptr<const Impl> impl_;
};

}  // namespace nowrec

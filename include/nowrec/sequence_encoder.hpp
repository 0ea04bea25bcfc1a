// SequenceEncoder: a BERT-family transformer encoder loaded from a model folder.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "nowrec/device.hpp"
#include "nowrec/model_folder.hpp"

namespace nowrec {

struct EncoderOptions {
  Device device = Device::CPU;
  int threads = 0;  // 0: all cores
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
// activation, and every weight tensor present with the shape config.json implies. Encoding
// itself arrives with the CPU kernels.
//
// Thread-safety: const methods may be called concurrently.
class SequenceEncoder {
 public:
  static SequenceEncoder load(const std::filesystem::path& model_dir,
                              const EncoderOptions& options = {});
  static SequenceEncoder load(const ModelFolder& model, const EncoderOptions& options = {});

  std::size_t dim() const noexcept { return info_.dim; }
  const EncoderInfo& info() const noexcept { return info_; }

 private:
  EncoderInfo info_;
};

}  // namespace nowrec

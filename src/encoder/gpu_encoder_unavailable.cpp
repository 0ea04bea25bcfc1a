// make_gpu_encoder in a build without the CUDA path.
#include "encoder/gpu_encoder.hpp"
#include "nowrec/error.hpp"

namespace nowrec::encoder {

std::unique_ptr<GpuEncoder> make_gpu_encoder(const ModelFolder&, HalfKind) {
  throw Error(ErrorCode::DeviceUnavailable,
              "no CUDA device: this build of nowrec has no CUDA path (NOWREC_WITH_CUDA=OFF)");
}

}  // namespace nowrec::encoder

// CudaRanker in a build without the CUDA path: construction fails with "no CUDA device".
#include "nowrec/cuda_ranker.hpp"
#include "nowrec/error.hpp"

namespace nowrec {

struct CudaRanker::Impl {};

CudaRanker::CudaRanker(const ItemIndex&, const CudaRankerOptions&) {
  throw Error(ErrorCode::DeviceUnavailable,
              "no CUDA device: this build of nowrec has no CUDA path (NOWREC_WITH_CUDA=OFF)");
}
CudaRanker::CudaRanker(CudaRanker&&) noexcept = default;
CudaRanker& CudaRanker::operator=(CudaRanker&&) noexcept = default;
CudaRanker::~CudaRanker() = default;

// Unreachable: no CudaRanker can be constructed in this build.
void CudaRanker::refresh() {}
void CudaRanker::rank(std::span<const RankRequest>, const RankOptions&, std::span<ScoredItem>,
                      std::span<std::size_t>, void*) const {}
std::vector<ScoredItem> CudaRanker::rank(const RankRequest&, const RankOptions&, void*) const {
  return {};
}
std::vector<ScoredItem> CudaRanker::top_k(std::span<const float>, std::size_t, void*) const {
  return {};
}
std::size_t CudaRanker::dim() const noexcept { return 0; }
std::size_t CudaRanker::size() const noexcept { return 0; }
std::size_t CudaRanker::device_rows() const noexcept { return 0; }
StorageType CudaRanker::storage() const noexcept { return StorageType::F32; }

}  // namespace nowrec

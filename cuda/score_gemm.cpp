// cuBLASLt scores for the CUDA ranker. Host code only, hence a .cpp beside the kernels' .cu.
//
// cuBLASLt is column-major. The row-major catalog tile [rows][dim] read column-major is
// R (dim x rows), the queries Q (dim x batch); D = Rᵀ·Q is rows x batch, which read row-major
// is [batch][rows]: each query's scores contiguous, as the select kernel wants them.
#include "cuda/score_gemm.cuh"
#include "cuda/cublaslt_handles.hpp"

#include <memory>
#include <string>

namespace nowrec::cuda {
namespace {

using cublaslt::Layout;
using cublaslt::make_layout;
using cublaslt::MatmulDesc;

}  // namespace

ScoreGemm::ScoreGemm(void* workspace, std::size_t workspace_bytes)
    : workspace_(workspace), workspace_bytes_(workspace_bytes) {
  check(cublasLtCreate(&handle_), "cublasLtCreate");
}

ScoreGemm::~ScoreGemm() { cublasLtDestroy(handle_); }

namespace {

// The matmul's description: D = Aᵀ·B with fp32 accumulation and fp32 output.
struct Operation {
  MatmulDesc desc;
  Layout a, b, d;
};

Operation describe(RowType type, std::size_t tile_rows, std::size_t dim, std::size_t batch) {
  const cudaDataType_t input = type == RowType::F32 ? CUDA_R_32F : CUDA_R_16BF;
  cublasLtMatmulDesc_t raw = nullptr;
  check(cublasLtMatmulDescCreate(&raw, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  Operation operation{MatmulDesc(raw), make_layout(input, dim, tile_rows, dim),
                      make_layout(input, dim, batch, dim),
                      make_layout(CUDA_R_32F, tile_rows, batch, tile_rows)};
  const cublasOperation_t transpose = CUBLAS_OP_T, keep = CUBLAS_OP_N;
  check(cublasLtMatmulDescSetAttribute(operation.desc.get(), CUBLASLT_MATMUL_DESC_TRANSA,
                                       &transpose, sizeof(transpose)),
        "cublasLtMatmulDescSetAttribute(TRANSA)");
  check(cublasLtMatmulDescSetAttribute(operation.desc.get(), CUBLASLT_MATMUL_DESC_TRANSB, &keep,
                                       sizeof(keep)),
        "cublasLtMatmulDescSetAttribute(TRANSB)");
  return operation;
}

}  // namespace

const cublasLtMatmulAlgo_t* ScoreGemm::algorithm(RowType type, std::size_t tile_rows,
                                                 std::size_t dim, std::size_t batch) {
  const ShapeKey key{static_cast<int>(type), tile_rows, dim, batch};
  auto found = algorithms_.find(key);
  if (found == algorithms_.end()) {
    const Operation operation = describe(type, tile_rows, dim, batch);
    const auto algo =
        cublaslt::best_algorithm(handle_, operation.desc.get(), operation.a.get(),
                                 operation.b.get(), operation.d.get(), workspace_bytes_);
    found = algorithms_.emplace(key, algo).first;
  }
  return found->second ? &*found->second : nullptr;
}

bool ScoreGemm::supports(RowType type, std::size_t tile_rows, std::size_t dim, std::size_t batch) {
  return algorithm(type, tile_rows, dim, batch) != nullptr;
}

void ScoreGemm::run(RowType type, const void* rows, std::size_t tile_rows, std::size_t dim,
                    const void* queries, std::size_t batch, float* scores, cudaStream_t stream) {
  const cublasLtMatmulAlgo_t* algo = algorithm(type, tile_rows, dim, batch);
  if (algo == nullptr) {
    throw Error(ErrorCode::Unsupported, "cuBLASLt has no algorithm for ranker scores of " +
                                            std::to_string(tile_rows) + " rows x " +
                                            std::to_string(batch) + " queries (dim " +
                                            std::to_string(dim) + ") on this GPU");
  }
  const Operation operation = describe(type, tile_rows, dim, batch);
  const float one = 1.0f, zero = 0.0f;
  check(cublasLtMatmul(handle_, operation.desc.get(), &one, rows, operation.a.get(), queries,
                       operation.b.get(), &zero, scores, operation.d.get(), scores,
                       operation.d.get(), algo, workspace_, workspace_bytes_, stream),
        "cublasLtMatmul");
}

}  // namespace nowrec::cuda

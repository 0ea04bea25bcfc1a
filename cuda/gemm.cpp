// cuBLASLt matmuls for the CUDA encoder. Host code only, hence a .cpp beside the kernels' .cu.
//
// cuBLASLt is column-major. A row-major [rows][in] activation is, read column-major, the matrix
// xᵀ (in x rows); PyTorch's row-major [out][in] weight is wᵀ (in x out). So D = op(A)·B with
// A = weight (transposed), B = x, gives D = w·xᵀ (out x rows): read row-major, y = x·wᵀ. The
// bias epilogue adds per row of D, i.e. per output feature.
#include "cuda/gemm.cuh"
#include "cuda/cublaslt_handles.hpp"

#include <memory>
#include <string>

namespace nowrec::cuda {
namespace {

cudaDataType_t data_type(HalfType type) { return type == HalfType::F16 ? CUDA_R_16F : CUDA_R_16BF; }

using cublaslt::Layout;
using cublaslt::make_layout;
using cublaslt::MatmulDesc;

}  // namespace

Gemm::Gemm(HalfType type, void* workspace, std::size_t workspace_bytes)
    : type_(type), workspace_(workspace), workspace_bytes_(workspace_bytes) {
  check(cublasLtCreate(&handle_), "cublasLtCreate");
}

Gemm::~Gemm() { cublasLtDestroy(handle_); }

const cublasLtMatmulAlgo_t& Gemm::algorithm(const ShapeKey& key, cublasLtMatmulDesc_t operation,
                                            cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
                                            cublasLtMatrixLayout_t d) {
  if (auto found = algorithms_.find(key); found != algorithms_.end()) return found->second;
  const auto chosen = cublaslt::best_algorithm(handle_, operation, a, b, d, workspace_bytes_);
  if (!chosen) {
    throw Error(ErrorCode::Unsupported,
                "cuBLASLt has no algorithm for a [" + std::to_string(std::get<2>(key)) + " x " +
                    std::to_string(std::get<1>(key)) + "] by [" + std::to_string(std::get<0>(key)) +
                    " x " + std::to_string(std::get<1>(key)) + "]ᵀ matmul on this GPU");
  }
  return algorithms_.emplace(key, *chosen).first->second;
}

void Gemm::run(const DeviceLinear& linear, Epilogue epilogue, const void* x, int rows, void* y,
               cudaStream_t stream) {
  if (rows == 0) return;
  const cudaDataType_t type = data_type(type_);
  cublasLtMatmulDesc_t raw = nullptr;
  check(cublasLtMatmulDescCreate(&raw, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  const MatmulDesc operation(raw);
  const cublasOperation_t transpose = CUBLAS_OP_T, keep = CUBLAS_OP_N;
  check(cublasLtMatmulDescSetAttribute(operation.get(), CUBLASLT_MATMUL_DESC_TRANSA, &transpose,
                                       sizeof(transpose)),
        "cublasLtMatmulDescSetAttribute(TRANSA)");
  check(cublasLtMatmulDescSetAttribute(operation.get(), CUBLASLT_MATMUL_DESC_TRANSB, &keep,
                                       sizeof(keep)),
        "cublasLtMatmulDescSetAttribute(TRANSB)");
  if (epilogue != Epilogue::None) {
    const cublasLtEpilogue_t kind =
        epilogue == Epilogue::Bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_GELU_BIAS;
    check(cublasLtMatmulDescSetAttribute(operation.get(), CUBLASLT_MATMUL_DESC_EPILOGUE, &kind,
                                         sizeof(kind)),
          "cublasLtMatmulDescSetAttribute(EPILOGUE)");
    check(cublasLtMatmulDescSetAttribute(operation.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                         &linear.bias, sizeof(linear.bias)),
          "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
    const cudaDataType_t bias_type = type;
    check(cublasLtMatmulDescSetAttribute(operation.get(), CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                         &bias_type, sizeof(bias_type)),
          "cublasLtMatmulDescSetAttribute(BIAS_DATA_TYPE)");
  }
  const Layout a = make_layout(type, linear.in, linear.out, linear.in);  // wᵀ, transposed back
  const Layout b = make_layout(type, linear.in, rows, linear.in);        // xᵀ
  const Layout d = make_layout(type, linear.out, rows, linear.out);      // yᵀ
  const ShapeKey key{linear.out, linear.in, rows, static_cast<int>(epilogue)};
  const cublasLtMatmulAlgo_t& algo = algorithm(key, operation.get(), a.get(), b.get(), d.get());
  const float one = 1.0f, zero = 0.0f;
  check(cublasLtMatmul(handle_, operation.get(), &one, linear.weight, a.get(), x, b.get(), &zero, y,
                       d.get(), y, d.get(), &algo, workspace_, workspace_bytes_, stream),
        "cublasLtMatmul");
}

}  // namespace nowrec::cuda

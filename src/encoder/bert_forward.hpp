// The BERT-family forward pass, written once: which batch-wide operation follows which. Each
// device supplies the operations (bert_cpu_model.cpp: oneDNN matmuls and the per-ISA kernels;
// cuda/bert_cuda_model.cpp: cuBLASLt and its CUDA kernels), so the structure of the model lives
// here only.
#pragma once

namespace nowrec::encoder {

// What a forward pass writes: one row per sequence, pooled as the model folder says (and
// L2-normalised when it says so), or one row per token, the last layer's hidden states.
enum class ForwardOutput { Pooled, Tokens };

// One transformer layer's weights, in a device's own forms of a linear layer and a LayerNorm.
template <typename Linear, typename Norm>
struct BertLayer {
  Linear qkv;  // query, key and value stacked: [3 * hidden][hidden]
  Linear attention_output;
  Norm attention_norm;
  Linear intermediate;
  Linear output;
  Norm output_norm;
};

// The activations of one forward pass over a packed batch, in the device's pointer type.
template <typename Buffer>
struct BertActivations {
  Buffer x;          // [tokens][hidden]: the hidden states, updated layer by layer
  Buffer qkv;        // [tokens][3 * hidden]
  Buffer context;    // [tokens][hidden]: attention output before its projection
  Buffer projected;  // [tokens][hidden]: a projection before residual + LayerNorm
  Buffer inner;      // [tokens][intermediate]
};

// Embeddings, every layer, then the output, over the one packed batch `ops` was made for. Each
// operation checks nothing: `ops` checked the batch against its buffers when it was made.
//   embed(x)                             x = LayerNorm(word embedding or input vector
//                                                      + position + token type 0)
//   linear(w, in, out)                   out = in·Wᵀ + b
//   attention(qkv, context)              each sequence and head, bidirectional or causal
//   linear_gelu(w, in, out)              out = GELU(in·Wᵀ + b)
//   linear_residual_norm(w, n, in, tmp, x)  x = LayerNorm(in·Wᵀ + b + x), tmp its scratch
//   finish(x)                            pooled rows or per-token rows to the output
template <typename Ops, typename Layers, typename Buffer>
void run_bert_forward(const Ops& ops, const Layers& layers, const BertActivations<Buffer>& a) {
  ops.embed(a.x);
  for (const auto& layer : layers) {
    ops.linear(layer.qkv, a.x, a.qkv);
    ops.attention(a.qkv, a.context);
    ops.linear_residual_norm(layer.attention_output, layer.attention_norm, a.context, a.projected,
                             a.x);
    ops.linear_gelu(layer.intermediate, a.x, a.inner);
    ops.linear_residual_norm(layer.output, layer.output_norm, a.inner, a.projected, a.x);
  }
  ops.finish(a.x);
}

}  // namespace nowrec::encoder

#!/usr/bin/env python3
"""ONNX Runtime on the texts encoder_bench reads, printed as the same JSON.

Exports the model folder's transformer with mean pooling and L2 normalisation (what
sentence-transformers does for all-MiniLM-L6-v2) to ONNX with torch.onnx.export, from the local
folder only, then times Hugging Face tokenizers + an ONNX Runtime session: every text once per
pass, `batch` texts per call, sorted by length (as sentence-transformers does) and padded to
the longest text of the call. Also reports how far its
embeddings are from the reference fixture, as a check that both sides compute the same thing.

Needs: pip install onnxruntime onnx torch transformers tokenizers numpy.
Usage: encoder_peer.py --model DIR --texts FILE [--threads T] [--repeat N] [--batches 1,32]
                       [--reference NPY] [--onnx PATH] [--no-fusion]
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np


def export(model_dir, path):
    import torch
    from transformers import AutoModel

    class MeanPooledEncoder(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    ids = torch.ones((2, 8), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            MeanPooledEncoder(model),
            (ids, torch.ones_like(ids)),
            path,
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"},
                          "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.environ.get("NOWREC_MODEL", ""))
    parser.add_argument("--texts", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--reference", help="float32 .npy of reference embeddings, one per text")
    parser.add_argument("--onnx", help="reuse (or write) the exported model here")
    parser.add_argument("--no-fusion", action="store_true",
                        help="run the exported graph without ONNX Runtime's BERT fusions")
    args = parser.parse_args()

    import onnxruntime as ort
    from tokenizers import Tokenizer

    with open(args.texts, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]

    workdir = tempfile.TemporaryDirectory()
    onnx_path = args.onnx or os.path.join(workdir.name, "encoder.onnx")
    if not os.path.exists(onnx_path):
        export(args.model, onnx_path)
    if not args.no_fusion:
        # ONNX Runtime's own BERT fusions (EmbedLayerNormalization, Attention, BiasGelu,
        # SkipLayerNormalization): the fastest form of the model it offers.
        from onnxruntime.transformers import optimizer
        config = json.load(open(os.path.join(args.model, "config.json")))
        fused = optimizer.optimize_model(onnx_path, model_type="bert",
                                         num_heads=config["num_attention_heads"],
                                         hidden_size=config["hidden_size"])
        onnx_path = os.path.join(workdir.name, "encoder_fused.onnx")
        fused.save_model_to_file(onnx_path)

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tok.enable_truncation(args.max_length)
    # all-MiniLM-L6-v2's tokenizer.json pads every text to 128 tokens; sentence-transformers pads
    # to the longest text of a batch instead.
    tok.no_padding()
    tokens = sum(len(e.ids) for e in tok.encode_batch(texts))
    tok.enable_padding(pad_id=0, pad_token="[PAD]")

    def one_pass(batch):
        # As sentence-transformers does: sort by length so that each call pads little, then
        # restore the caller's order.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        rows = []
        start = time.perf_counter()
        for first in range(0, len(texts), batch):
            chunk = order[first:first + batch]
            encodings = tok.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            rows.append((chunk, session.run(None, {"input_ids": ids, "attention_mask": mask})[0]))
        seconds = time.perf_counter() - start
        out = np.empty((len(texts), rows[0][1].shape[1]), dtype=np.float32)
        for chunk, embeddings in rows:
            out[chunk] = embeddings
        return seconds, out

    name = f"onnxruntime {ort.__version__}" + (" (unfused)" if args.no_fusion else "")
    report = {"implementation": name, "texts": len(texts),
              "tokens": tokens, "threads": args.threads, "runs": []}
    for batch in [int(b) for b in args.batches.split(",")]:
        _, embeddings = one_pass(batch)  # warm-up
        best = min(one_pass(batch)[0] for _ in range(args.repeat))
        run = {"batch": batch, "seconds": best, "texts_per_s": len(texts) / best,
               "tokens_per_s": tokens / best}
        if args.reference:
            reference = np.load(args.reference)
            run["max_abs_diff_to_reference"] = float(np.abs(embeddings - reference).max())
        report["runs"].append(run)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()

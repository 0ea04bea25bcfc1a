#!/usr/bin/env python3
"""ONNX Runtime or sentence-transformers on the texts encoder_bench reads, printed as the same JSON.

--impl onnxruntime (the default) exports the model folder's transformer with mean pooling and L2 normalisation (what
sentence-transformers does for all-MiniLM-L6-v2) to ONNX with torch.onnx.export, from the local
folder only, then times Hugging Face tokenizers + an ONNX Runtime session: every text once per
pass, `batch` texts per call, sorted by length (as sentence-transformers does) and padded to
the longest text of the call. --impl sentence-transformers
runs SentenceTransformer.encode on PyTorch (torch.set_num_threads(T)), which sorts and pads the
same way. Also reports how far its embeddings are from the reference fixture, as a check that
both sides compute the same thing. --latency CALLS times single-text calls instead of passes and
reports their p50 and p99, as encoder_bench does; --embeddings writes the embeddings of the first
batch size as a float32 .npy.

Needs: pip install onnxruntime onnx torch transformers tokenizers numpy sentence-transformers.
Usage: encoder_peer.py --model DIR --texts FILE [--impl onnxruntime|sentence-transformers]
                       [--threads T] [--repeat N] [--batches 1,32] [--latency CALLS]
                       [--workload NAME] [--embeddings NPY] [--reference NPY] [--onnx PATH]
                       [--no-fusion]
Other scripts import peer_encoder(impl, model_dir, threads) for the same encode function.
"""

import argparse
import json
import math
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
    parser.add_argument("--impl", choices=["onnxruntime", "sentence-transformers"],
                        default="onnxruntime")
    parser.add_argument("--latency", type=int, default=0)
    parser.add_argument("--workload", default="")
    parser.add_argument("--embeddings", help="write the first batch size's embeddings here")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--reference", help="float32 .npy of reference embeddings, one per text")
    parser.add_argument("--onnx", help="reuse (or write) the exported model here")
    parser.add_argument("--no-fusion", action="store_true",
                        help="run the exported graph without ONNX Runtime's BERT fusions")
    args = parser.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    tokens = sum(len(e.ids) for e in tokenizer(args.model, args.max_length).encode_batch(texts))
    name, encode = peer_encoder(args.impl, args.model, args.threads, args.max_length, args.onnx,
                                fusion=not args.no_fusion)

    def one_pass(batch):
        start = time.perf_counter()
        out = encode(texts, batch)
        return time.perf_counter() - start, out

    report = {"implementation": name, "texts": len(texts), "tokens": tokens,
              "threads": args.threads, "workload": args.workload, "runs": []}
    if args.latency > 0:
        for i in range(min(2 * len(texts), 20)):  # warm-up
            encode([texts[i % len(texts)]], 1)
        ms = []
        for i in range(args.latency):
            start = time.perf_counter()
            encode([texts[i % len(texts)]], 1)
            ms.append((time.perf_counter() - start) * 1e3)
        ms.sort()

        def percentile(p):  # nearest rank, as encoder_bench
            return ms[min(len(ms), max(1, math.ceil(p / 100 * len(ms)))) - 1]

        report["latency_ms"] = {"calls": len(ms), "p50": percentile(50), "p99": percentile(99),
                                "min": ms[0]}
        json.dump(report, sys.stdout, indent=2)
        print()
        return
    for batch in [int(b) for b in args.batches.split(",")]:
        _, embeddings = one_pass(batch)  # warm-up
        best = min(one_pass(batch)[0] for _ in range(args.repeat))
        run = {"batch": batch, "seconds": best, "texts_per_s": len(texts) / best,
               "tokens_per_s": tokens / best}
        if args.reference:
            reference = np.load(args.reference)
            run["max_abs_diff_to_reference"] = float(np.abs(embeddings - reference).max())
        if args.embeddings and not report["runs"]:
            np.save(args.embeddings, embeddings.astype(np.float32))
        report["runs"].append(run)
    json.dump(report, sys.stdout, indent=2)
    print()


def tokenizer(model_dir, max_length):
    """Hugging Face tokenizers for the folder, truncating at max_length, without padding."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(max_length)
    # all-MiniLM-L6-v2's tokenizer.json pads every text to 128 tokens; sentence-transformers pads
    # to the longest text of a batch instead.
    tok.no_padding()
    return tok


def peer_encoder(impl, model_dir, threads, max_length=256, onnx=None, fusion=True):
    """(name, encode) of a peer: encode(texts, batch) returns float32 (len(texts), dim) in the
    texts' order, `batch` texts per model call. impl: "onnxruntime" or "sentence-transformers";
    onnx: where to reuse (or write) the exported model; fusion: ONNX Runtime's BERT fusions."""
    if impl == "onnxruntime":
        return onnxruntime_encoder(model_dir, threads, tokenizer(model_dir, max_length), onnx,
                                   fusion)
    if impl == "sentence-transformers":
        return sentence_transformers_encoder(model_dir, threads, max_length)
    raise ValueError(f"unknown peer {impl!r}")


def sentence_transformers_encoder(model_dir, threads, max_length):
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(model_dir, device="cpu", local_files_only=True)
    model.max_seq_length = max_length

    def encode(texts, batch):
        with torch.inference_mode():
            return model.encode(texts, batch_size=batch, convert_to_numpy=True,
                                show_progress_bar=False)

    return (f"sentence-transformers {sentence_transformers.__version__} "
            f"(torch {torch.__version__.split('+')[0]})"), encode


def onnxruntime_encoder(model_dir, threads, tok, onnx=None, fusion=True):
    import onnxruntime as ort

    workdir = tempfile.TemporaryDirectory()
    onnx_path = onnx or os.path.join(workdir.name, "encoder.onnx")
    if not os.path.exists(onnx_path):
        export(model_dir, onnx_path)
    if fusion:
        # ONNX Runtime's own BERT fusions (EmbedLayerNormalization, Attention, BiasGelu,
        # SkipLayerNormalization): the fastest form of the model it offers.
        from onnxruntime.transformers import optimizer
        config = json.load(open(os.path.join(model_dir, "config.json")))
        fused = optimizer.optimize_model(onnx_path, model_type="bert",
                                         num_heads=config["num_attention_heads"],
                                         hidden_size=config["hidden_size"])
        onnx_path = os.path.join(workdir.name, "encoder_fused.onnx")
        fused.save_model_to_file(onnx_path)

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    # Kept alive with the session: the fused model lives in it.
    onnxruntime_encoder.workdir = workdir
    tok.enable_padding(pad_id=0, pad_token="[PAD]")

    def encode(texts, batch):
        # As sentence-transformers does: sort by length so that each call pads little, then
        # restore the caller's order.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        rows = []
        for first in range(0, len(texts), batch):
            chunk = order[first:first + batch]
            encodings = tok.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            rows.append((chunk, session.run(None, {"input_ids": ids, "attention_mask": mask})[0]))
        out = np.empty((len(texts), rows[0][1].shape[1]), dtype=np.float32)
        for chunk, embeddings in rows:
            out[chunk] = embeddings
        return out

    return f"onnxruntime {ort.__version__}" + ("" if fusion else " (unfused)"), encode


if __name__ == "__main__":
    main()

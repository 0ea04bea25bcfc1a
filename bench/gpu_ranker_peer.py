#!/usr/bin/env python3
"""The CUDA ranker's peer on the same GPU: Faiss GPU IndexFlatIP when importable, otherwise
torch.topk over a torch.matmul. Random unit vectors of the same shape as gpu_ranker_bench's;
prints JSON lines in its format."""
import argparse
import json
import time


def timed(run, seconds):
    for _ in range(3):
        run()
    calls, start = 0, time.perf_counter()
    while calls < 20 or time.perf_counter() - start < seconds:
        run()
        calls += 1
    return (time.perf_counter() - start) / calls * 1e3


def report(impl, rows, dim, batch, k, ms):
    print(json.dumps({"section": "ranker", "impl": impl, "rows": rows, "dim": dim, "batch": batch,
                      "k": k, "ms": round(ms, 4), "queries_per_s": round(batch / (ms * 1e-3))}),
          flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    rows, dim = args.rows, args.dim
    shapes = [(batch, k) for batch in (1, 64) for k in (10, 100)]
    try:
        import faiss
        import numpy as np
        if faiss.get_num_gpus() == 0:
            raise ImportError("faiss without GPUs")
    except ImportError:
        faiss = None

    if faiss is not None:
        rng = np.random.default_rng(1)
        items = rng.standard_normal((rows, dim), dtype=np.float32)
        items /= np.linalg.norm(items, axis=1, keepdims=True)
        queries = rng.standard_normal((64, dim), dtype=np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        resources = faiss.StandardGpuResources()
        for name, half in (("faiss_f32", False), ("faiss_f16", True)):
            config = faiss.GpuIndexFlatConfig()
            config.useFloat16 = half
            index = faiss.GpuIndexFlatIP(resources, dim, config)
            index.add(items)
            for batch, k in shapes:
                report(name, rows, dim, batch, k,
                       timed(lambda: index.search(queries[:batch], k), args.seconds))
            del index
        return

    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    generator = torch.Generator(device="cuda").manual_seed(1)
    items = torch.randn(rows, dim, device="cuda", generator=generator)
    items /= items.norm(dim=1, keepdim=True)
    queries = torch.randn(64, dim, device="cuda", generator=generator)
    queries /= queries.norm(dim=1, keepdim=True)
    for name, dtype in (("torch_f32", torch.float32), ("torch_bf16", torch.bfloat16)):
        catalog, asked = items.to(dtype), queries.to(dtype)
        for batch, k in shapes:
            def run():
                scores = asked[:batch] @ catalog.T
                values, ids = torch.topk(scores.float(), k, dim=1)
                ids.cpu()  # the answer on the host, as CudaRanker returns it
            report(name, rows, dim, batch, k, timed(run, args.seconds))
        del catalog


if __name__ == "__main__":
    main()

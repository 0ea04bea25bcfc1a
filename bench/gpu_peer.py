#!/usr/bin/env python3
"""PyTorch fp16 (through sentence-transformers) on the GPU check's workloads, as JSON lines.

The peer of bench/gpu_encoder_bench on the same GPU, inputs and model folder (local files only,
no hub downloads):
  latency_16      one text of about 16 tokens: model.encode([text]) p50/p99, and the bare
                  forward pass on pre-tokenized ids (latency_16_ids)
  titles_256      256 mixed-length titles in one model.encode call: texts/s
  tokens_128      1024 pre-tokenized sequences of 128 ids through the transformer + mean pooling
                  + normalisation, 256 per forward call: tokens/s

Needs torch with CUDA and sentence-transformers (written against 6.x, whose tokenizer output holds
non-tensor entries such as "modality"). A workload that fails prints its error to stderr and the
next one still runs; the exit status is then 1. --dry-run parses the arguments and prints the
plan without importing torch. --compile runs the transformer through torch.compile (its first
call compiles, outside the timings; the lines then say "torch_fp16_compile"); --workloads picks
some of the workloads.
Usage: gpu_peer.py --model DIR --texts FILE.jsonl --latency-text TEXT [--titles 256]
                   [--long 1024] [--long-tokens 128] [--long-batch 256] [--device cuda]
                   [--compile] [--workloads tokens_128,latency_16,latency_16_ids,titles_256]
                   [--dry-run]
"""

import argparse
import json
import sys
import time
import traceback


IMPL = "torch_fp16"  # "torch_fp16_compile" with --compile


def emit(workload, metric, value, unit, **extra):
    line = {"impl": IMPL, "workload": workload, "metric": metric, "value": value,
            "unit": unit}
    line.update(extra)
    print(json.dumps(line), flush=True)


def read_texts(path, count):
    texts = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                texts.append(json.loads(line))
            if len(texts) == count:
                break
    if len(texts) < count:
        sys.exit(f"gpu_peer.py: {path} holds {len(texts)} texts, fewer than --titles {count}")
    return texts


def percentile(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def time_per_run(body, sync, min_runs, min_seconds):
    for _ in range(3):
        body()
    sync()
    runs, start = 0, time.perf_counter()
    while runs < min_runs or time.perf_counter() - start < min_seconds:
        body()
        sync()
        runs += 1
    return (time.perf_counter() - start) / runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--texts", required=True)
    parser.add_argument("--latency-text", required=True)
    parser.add_argument("--titles", type=int, default=256)
    parser.add_argument("--long", type=int, default=1024)
    parser.add_argument("--long-tokens", type=int, default=128)
    parser.add_argument("--long-batch", type=int, default=256)
    parser.add_argument("--device", default="cuda",
                        help="cuda (fp16, the measurement) or cpu (fp32, to check the script)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the transformer (default mode, static shapes)")
    # tokens_128 first: run after the others in the same process, PyTorch reached only 76-94% of
    # the rate it reaches first (6.9-8.6 against 9.1 M tokens/s on an H200).
    parser.add_argument("--workloads", default="tokens_128,latency_16,latency_16_ids,titles_256")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    global IMPL
    IMPL = "torch_fp16_compile" if args.compile else "torch_fp16"
    known = {"latency_16", "latency_16_ids", "titles_256", "tokens_128"}
    chosen = [w for w in args.workloads.split(",") if w]
    if not chosen or set(chosen) - known:
        sys.exit(f"gpu_peer.py: --workloads takes some of {sorted(known)}")
    titles = read_texts(args.texts, args.titles)
    if args.dry_run:
        print(json.dumps({"impl": IMPL, "plan": {"workloads": chosen,
            "model": args.model, "titles": len(titles), "latency_text": args.latency_text,
            "long": [args.long, args.long_tokens, args.long_batch]}}))
        return

    import sentence_transformers
    import torch
    import transformers

    device = args.device
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_peer.py: torch sees no CUDA device")
    model = sentence_transformers.SentenceTransformer(args.model, device=device,
                                                      local_files_only=True)
    if device == "cuda":
        model.half()
    model.eval()
    if args.compile:
        model[0].auto_model = torch.compile(model[0].auto_model, dynamic=False)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu (fp32)"
    print(json.dumps({"impl": IMPL, "info": {
        "device": name, "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__}}), flush=True)

    # Tokenizer output on the device: tensors moved, the other entries (sentence-transformers
    # 6.x adds strings such as "modality") passed through as the model's forward expects them.
    def features_of(texts):
        return {k: v.to(device) if isinstance(v, torch.Tensor) else v
                for k, v in model.tokenize(texts).items()}

    def token_count():
        return len(model.tokenizer(args.latency_text)["input_ids"])

    def latency_16():
        # One text, as a user calls it.
        samples = []
        for i in range(520):
            start = time.perf_counter()
            model.encode([args.latency_text], batch_size=1, convert_to_numpy=True)
            if i >= 20:
                samples.append((time.perf_counter() - start) * 1e3)
        emit("latency_16", "p50", percentile(samples, 0.5), "ms", tokens=token_count())
        emit("latency_16", "p99", percentile(samples, 0.99), "ms", tokens=token_count())

    def latency_16_ids():
        # The bare forward pass on the tokenized text.
        features = features_of([args.latency_text])
        samples = []
        with torch.inference_mode():
            for i in range(1020):
                start = time.perf_counter()
                model(dict(features))["sentence_embedding"].cpu()
                if i >= 20:
                    samples.append((time.perf_counter() - start) * 1e3)
        emit("latency_16_ids", "p50", percentile(samples, 0.5), "ms", tokens=token_count())

    def titles_256():
        # Mixed-length titles in one call, tokenization included.
        seconds = time_per_run(lambda: model.encode(titles, batch_size=len(titles),
                                                    convert_to_numpy=True), sync, 20, 1.0)
        emit("titles_256", "texts_per_s", len(titles) / seconds, "texts/s")

    def tokens_128():
        # Pre-tokenized sequences of a fixed length: transformer + mean pooling + normalize.
        extras = {k: v for k, v in features_of([args.latency_text]).items()
                  if not isinstance(v, torch.Tensor)}
        vocab = model[0].auto_model.config.vocab_size
        generator = torch.Generator(device=device).manual_seed(5)
        ids = torch.randint(1000, vocab, (args.long, args.long_tokens), device=device,
                            generator=generator)
        mask = torch.ones_like(ids)
        types = torch.zeros_like(ids)

        def long_pass():
            with torch.inference_mode():
                for begin in range(0, args.long, args.long_batch):
                    end = begin + args.long_batch
                    batch = dict(extras, input_ids=ids[begin:end], attention_mask=mask[begin:end],
                                 token_type_ids=types[begin:end])
                    model(batch)["sentence_embedding"].float().cpu()

        seconds = time_per_run(long_pass, sync, 5, 2.0)
        emit("tokens_128", "tokens_per_s", args.long * args.long_tokens / seconds, "tokens/s")

    failed = []
    workloads = {"latency_16": latency_16, "latency_16_ids": latency_16_ids,
                 "titles_256": titles_256, "tokens_128": tokens_128}
    for workload in (workloads[name] for name in chosen):
        try:
            workload()
        except Exception as error:  # one failing workload must not cost the others' numbers
            failed.append(workload.__name__)
            print(f"gpu_peer.py: {workload.__name__} failed: {type(error).__name__}: {error}",
                  file=sys.stderr, flush=True)
            traceback.print_exc(file=sys.stderr)
    if failed:
        sys.exit(f"gpu_peer.py: failed workloads: {', '.join(failed)}")

if __name__ == "__main__":
    main()

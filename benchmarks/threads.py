"""Two ways to use the cores for the forward pass, on a shipped model's ONNX graph:

    python benchmarks/threads.py [--model fast] [--sentences 4000] [--threads 2]

- ``split``: one batch at a time, each batch's kernels split across ``--threads``
  intra-op threads (onnxruntime's usual setting; what stancekit did before session 7);
- ``parallel``: ``--threads`` batches at a time, each on one thread (what
  ``OnnxRunner`` does now);
- ``one``: one batch at a time on one thread (the per-core reference).

Real sentences (the real test set, repeated), tokenised and length-sorted into batches
of 64 as ``stancekit label`` does; forward pass only, best of 3; sentences/s.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import onnxruntime as ort

import stancekit
from stancekit.batching import batches
from stancekit.runners import graph_bytes, onnx_file

ROOT = Path(__file__).resolve().parent.parent


def session(graph: bytes, threads: int, profiling: bool = False) -> ort.InferenceSession:
    """An onnxruntime session of ``graph`` as the runner opens one, with ``threads``
    intra-op threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_profiling = profiling
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


def real_batches(model, sentences: int | None = None, size: int = 64) -> tuple[bytes, list, int]:
    """The model's ONNX graph (bytes), the real test set's sentences (repeated up to
    ``sentences``) as length-sorted feeds of ``size``, and the number of sentences."""
    graph = graph_bytes(onnx_file(Path(model.path)))
    with (ROOT / "data/real/test.jsonl").open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    if sentences:
        texts = (texts * (sentences // len(texts) + 1))[:sentences]
    encodings = model.tokenizer.encode(texts, model.config.max_length)
    feeds = [
        {"input_ids": ids, "attention_mask": mask}
        for _, ids, mask in batches(encodings, size, model.tokenizer.pad_id, max_tokens=4096)
    ]
    return graph, feeds, len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--sentences", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    graph, feeds, n = real_batches(stancekit.load(args.model), args.sentences)
    split, one = session(graph, args.threads), session(graph, 1)
    pool = ThreadPoolExecutor(args.threads)
    ways = {
        f"split: 1 batch at a time on {args.threads} intra-op threads": lambda: [
            split.run(None, f) for f in feeds
        ],
        f"parallel: {args.threads} batches at a time, 1 thread each": lambda: list(
            pool.map(lambda f: one.run(None, f), feeds)
        ),
        "one: 1 batch at a time on 1 thread": lambda: [one.run(None, f) for f in feeds],
    }
    print(f"{args.model}: {n} real sentences, batches of 64; forward pass only, best of 3\n")
    print("| way | sentences/s |\n|---|---|")
    for name, run in ways.items():
        run()  # warm up
        best = min(_timed(run) for _ in range(3))
        print(f"| {name} | {n / best:,.0f} |")


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

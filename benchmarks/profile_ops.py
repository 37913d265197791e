"""Where a shipped model's forward pass spends its time, by ONNX operator:

    python benchmarks/profile_ops.py [--model fast] [--threads 1] [--batch 64]

onnxruntime's profiler on real sentences (the real test set, length-sorted into batches
as labelling does), a session with ``--threads`` intra-op threads; prints each operator
type's share of the kernel time, and sentences/s (with profiling on, so a little low).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import time
from pathlib import Path

import onnxruntime as ort

import stancekit
from stancekit.batching import batches
from stancekit.runners import onnx_file

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    model = stancekit.load(args.model)
    path = onnx_file(Path(model.path))
    graph = path.read_bytes()
    graph = gzip.decompress(graph) if path.suffix == ".gz" else graph
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    options.enable_profiling = True
    session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    with (ROOT / "data/real/test.jsonl").open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    encodings = model.tokenizer.encode(texts, model.config.max_length)
    feeds = [
        {"input_ids": ids, "attention_mask": mask}
        for _, ids, mask in batches(encodings, args.batch, model.tokenizer.pad_id, max_tokens=4096)
    ]
    started = time.perf_counter()
    for feed in feeds:
        session.run(None, feed)
    seconds = time.perf_counter() - started
    trace = session.end_profiling()
    times: collections.Counter = collections.Counter()
    with open(trace, encoding="utf-8") as fh:
        for event in json.load(fh):
            if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
                times[event["args"]["op_name"]] += event["dur"]
    os.remove(trace)
    total = sum(times.values())
    print(
        f"{args.model}: {len(texts)} real sentences, batches of {args.batch}, "
        f"{args.threads} thread(s): {len(texts) / seconds:,.0f} sentences/s (profiling on)\n"
    )
    print("| operator | share of kernel time |\n|---|---|")
    for name, micros in times.most_common():
        if micros / total >= 0.005:
            print(f"| {name} | {100 * micros / total:.1f}% |")


if __name__ == "__main__":
    main()

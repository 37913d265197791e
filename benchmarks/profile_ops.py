"""Where a shipped model's forward pass spends its time, by ONNX operator:

    python benchmarks/profile_ops.py [--model fast] [--threads 1] [--batch 64]

onnxruntime's profiler on real sentences (the real test set, length-sorted into batches
as labelling does), a session with ``--threads`` intra-op threads; prints each operator
type's share of the kernel time, and sentences/s (with profiling on, so a little low).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path

import stancekit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from threads import real_batches, session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="fast")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    graph, feeds, n = real_batches(stancekit.load(args.model), size=args.batch)
    profiled = session(graph, args.threads, profiling=True)
    started = time.perf_counter()
    for feed in feeds:
        profiled.run(None, feed)
    seconds = time.perf_counter() - started
    trace = profiled.end_profiling()
    times: collections.Counter = collections.Counter()
    with open(trace, encoding="utf-8") as fh:
        for event in json.load(fh):
            if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
                times[event["args"]["op_name"]] += event["dur"]
    os.remove(trace)
    total = sum(times.values())
    print(
        f"{args.model}: {n} real sentences, batches of {args.batch}, "
        f"{args.threads} thread(s): {n / seconds:,.0f} sentences/s (profiling on)\n"
    )
    print("| operator | share of kernel time |\n|---|---|")
    for name, micros in times.most_common():
        if micros / total >= 0.005:
            print(f"| {name} | {100 * micros / total:.1f}% |")


if __name__ == "__main__":
    main()

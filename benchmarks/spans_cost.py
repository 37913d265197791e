"""What speaker/target spans cost: labelling throughput with and without the span heads,
same model, same sentences, in one process.

    python benchmarks/spans_cost.py [--sentences 10000] [--precision auto]
"""

import argparse
import json
import time
from pathlib import Path

import stancekit

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=10000)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    pool = []
    for name in ("train.jsonl", "dev.jsonl"):
        pool += [json.loads(x)["text"] for x in (ROOT / "data" / name).open(encoding="utf-8")]
    texts = [pool[i % len(pool)] for i in range(args.sentences)]
    model = stancekit.load(
        backend="torch", precision=args.precision
    )  # heads are swappable in torch
    network = model.runner.network
    span_head = network.span
    model.label_sentences(texts[:256])  # warm-up
    rates = {"labels + spans": [], "labels alone": []}
    for _ in range(args.repeats):
        for name, head in (("labels + spans", span_head), ("labels alone", None)):
            network.span = head
            start = time.perf_counter()
            results = model.label_sentences(texts)
            rates[name].append(len(results) / (time.perf_counter() - start))
    network.span = span_head
    best = {k: max(v) for k, v in rates.items()}
    drop = 1 - best["labels + spans"] / best["labels alone"]
    print(
        f"| {len(texts)} sentences, precision {model.precision} | sentences/s (best of {args.repeats}) |"
    )
    print("|---|---|")
    for name, rate in best.items():
        print(f"| {name} | {rate:.0f} |")
    print(f"| throughput drop from spans | {drop:.1%} |")


if __name__ == "__main__":
    main()

"""Sentence segmentation speed (MB/s) on news-like text.

    python benchmarks/segmentation.py [--mb 8]

Builds a text of about --mb megabytes from the corpus sentences (paragraphs of 3-8
sentences) and times stancekit.split_sentences over it.
"""

import argparse
import json
import random
import time
from pathlib import Path

from stancekit.segment import split_sentences

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=8.0)
    args = parser.parse_args()
    sentences = [
        json.loads(line)["text"] for line in (ROOT / "data" / "train.jsonl").open(encoding="utf-8")
    ]
    rng = random.Random(0)
    parts, size = [], 0
    while size < args.mb * 1e6:
        para = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 8)))
        parts.append(para)
        size += len(para.encode()) + 2
    text = "\n\n".join(parts)
    megabytes = len(text.encode()) / 1e6
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        found = split_sentences(text)
        best = min(best, time.perf_counter() - start)
    print("| text | sentences | best of 3 | speed |\n|---|---|---|---|")
    print(f"| {megabytes:.1f} MB | {len(found)} | {best:.2f} s | {megabytes / best:.1f} MB/s |")


if __name__ == "__main__":
    main()

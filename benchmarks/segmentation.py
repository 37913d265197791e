"""Sentence segmentation speed (MB/s) on news-like text, and layout leaks on real text.

    python benchmarks/segmentation.py [--mb 8] [--docs 1000]

Builds a text of about --mb megabytes from the corpus sentences (paragraphs of 3-8
sentences) and times stancekit.split_sentences over it. Then, if the real-text pool
../shared/realtext is there, segments --docs White House documents (briefings with
speaker tags, releases with bullets; a fixed-seed sample) and counts the sentences that
start with a speaker tag ("MS. PSAKI:", "Q ") or a bullet ("- "): "before" counts each
sentence with its cut layout (`Sentence.prefix`) put back in front, as the segmenter
gave it before layout was cut; "after" counts the sentences as they are.
"""

import argparse
import gzip
import json
import random
import re
import time
from pathlib import Path

from stancekit.segment import split_sentences

ROOT = Path(__file__).resolve().parent.parent
REALTEXT = ROOT.parent / "shared" / "realtext"
LEAK = re.compile(r"(?:[A-Z][A-Z. ]+:|Q:? |[-*•] )")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=8.0)
    parser.add_argument("--docs", type=int, default=1000)
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
    if not REALTEXT.is_dir():
        print(f"\n(no {REALTEXT}: layout leaks not measured)")
        return
    docs = white_house_sample(args.docs)
    megabytes = sum(len(doc.encode()) for doc in docs) / 1e6
    start = time.perf_counter()
    segmented = [(doc, split_sentences(doc)) for doc in docs]
    seconds = time.perf_counter() - start
    before = after = total = 0
    for doc, found in segmented:
        for s in found:
            total += 1
            after += bool(LEAK.match(s.text))
            if s.prefix:  # the sentence as it was with its layout: from the prefix on
                head = doc.rindex(s.prefix, 0, s.start)
                before += bool(LEAK.match(doc, head, s.end))
            else:
                before += bool(LEAK.match(s.text))
    print("\n| White House documents | sentences | speed | start with a tag or bullet |")
    print("|---|---|---|---|")
    print(
        f"| {len(docs)} ({megabytes:.1f} MB) | {total} | {megabytes / seconds:.1f} MB/s "
        f"| {before} with the layout, {after} after cutting it |"
    )


def white_house_sample(n: int, seed: int = 0) -> list[str]:
    """``n`` documents drawn at random (fixed seed) from the two White House pools."""
    rng = random.Random(seed)
    sample: list[bytes] = []  # reservoir sampling: one pass, no pool in memory
    seen = 0
    for name in ("whitehouse-2009", "whitehouse-2021"):
        with gzip.open(REALTEXT / f"{name}.jsonl.gz", "rb") as fh:
            for line in fh:
                if seen < n:
                    sample.append(line)
                elif (j := rng.randrange(seen + 1)) < n:
                    sample[j] = line
                seen += 1
    return [json.loads(line)["text"] for line in sample]


if __name__ == "__main__":
    main()

"""Peak memory of `stancekit label` on a large corpus:

    python benchmarks/memory.py [--megabytes 500] [--max-seconds 600] [--model default]
                                [--worst-case]
    python benchmarks/memory.py --model fast --max-seconds 0   # a complete 500 MB run

Builds a JSONL corpus of news-like articles of the given size (the generator of
benchmarks/corpus.py), starts `stancekit label corpus.jsonl -o out.jsonl`, samples the
resident memory (VmRSS) of the process once a second, and prints the peak, a timeline
(elapsed s, sentences written, RSS) and, for a completed run, its sentences/s. With
--max-seconds the run is stopped after that long (0: run to the end; 500 MB is about 3.1
million sentences: most of an hour with the fast model on 2 cores, hours with the default);
the timeline shows whether memory grows with the amount read.

--worst-case builds the corpus from sentences longer than the model's 256-token limit
(ten corpus sentences run together), so that every batch has the largest shape labelling
can produce (batch size x 256 tokens) from the first chunk on. Memory in flight is the
model, one chunk of sentences and one batch's activations, so this peak bounds the peak
on any corpus, whatever its size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import ROOT, build_corpus  # noqa: E402


def build_worst_case(path: Path, sentences: int) -> None:
    """Articles of sentences that all exceed the model's token limit."""
    pool = [
        json.loads(line)["text"].rstrip(".")
        for line in (ROOT / "data" / "train.jsonl").open(encoding="utf-8")
    ]
    with path.open("w", encoding="utf-8") as fh:
        for n in range(0, sentences, 10):
            parts = [
                "; and ".join(pool[(n * 10 + k * 10 + j) % len(pool)] for j in range(10)) + "."
                for k in range(10)
            ]
            fh.write(json.dumps({"id": f"art-{n:07d}", "text": " ".join(parts)}) + "\n")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=500)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--model", default="default", help="shipped model name or folder")
    parser.add_argument("--words", type=float, default=25.0, help="mean words per sentence")
    parser.add_argument("--worst-case", action="store_true", help="only over-long sentences")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        if args.worst_case:
            sentences = int(args.megabytes * 1e6 / 1500)  # ~1,500 bytes per sentence
            build_worst_case(corpus, sentences)
        else:
            sentences = int(args.megabytes * 1e6 / 160)  # ~160 bytes of JSONL per sentence
            build_corpus(corpus, sentences, args.words)
        size = corpus.stat().st_size / 1e6
        out = tmp / "out.jsonl"
        cmd = [sys.executable, "-m", "stancekit", "label", str(corpus), "-o", str(out), "-q"]
        cmd += ["--model", args.model]
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        started, peak, timeline, last = time.time(), 0.0, [], 0.0
        while proc.poll() is None:
            time.sleep(1)
            elapsed = time.time() - started
            now = rss_mb(proc.pid)
            peak = max(peak, now)
            if elapsed - last >= 30 or not timeline:
                journal = Path(f"{out}.progress.json")
                done = json.loads(journal.read_text()) if journal.exists() else {}
                written = done.get("summary", {}).get("sentences", 0)
                timeline.append((elapsed, written, now))
                last = elapsed
            if args.max_seconds and elapsed >= args.max_seconds:
                proc.kill()
                proc.wait()
                break
        finished = proc.returncode == 0
        seconds = time.time() - started
        written = sum(1 for _ in out.open(encoding="utf-8")) if finished else 0
    print(
        f"Corpus: {size:.0f} MB JSONL{' (worst case: every sentence over 256 tokens)' if args.worst_case else ''}, "
        f"about {sentences:,} sentences. Model {args.model}. "
        f"{'Run completed' if finished else f'Run stopped after {seconds:.0f} s, before the end'}.\n"
    )
    print("| elapsed (s) | sentences written | RSS (MB) |\n|---|---|---|")
    for elapsed, written, now in timeline:
        print(f"| {elapsed:.0f} | {written:,} | {now:.0f} |")
    print(f"\nPeak RSS: {peak:.0f} MB")
    if finished:
        print(f"{written:,} sentences in {seconds:.0f} s: {written / seconds:.0f} sentences/s")


if __name__ == "__main__":
    main()

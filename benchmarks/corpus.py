"""Corpus labelling speed, memory and accuracy per backend, next to transformers, in one run:

    python benchmarks/corpus.py [--sentences 20000] [--batch-sizes 32,64,128]
                                [--model FOLDER] [--backends fp32,bf16,onnx]

1. Builds a synthetic news-like corpus: JSONL articles (5-30 sentences, paragraphs) made
   of corpus sentences (data/train.jsonl + data/dev.jsonl), some of them joined in pairs
   into long wire sentences, as many as it takes to average --words (25) words per
   sentence; lengths vary from 3 to about 90 words.
2. For each backend x batch size: `stancekit label corpus.jsonl -o out.jsonl` end to end
   (process start, model load, reading, segmentation, labelling, writing JSONL), wall
   time -> sentences/s, and the peak resident memory of that process.
3. Dev macro-F1 (data/dev.jsonl) of each backend.
4. The same model exported with `stancekit export --format hf`, run with
   `transformers.pipeline("text-classification", batch_size=32)` on the CPU over the
   same sentences (already split: the pipeline gets no segmentation work), timed the
   same way, with its peak memory and dev macro-F1.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs a command and prints its wall time and peak RSS (ru_maxrss of the child, in KiB).
MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
if done.returncode:
    sys.exit(done.stderr)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "peak_mb": rss / 1024}))
"""

PIPELINE = """
import json, sys
from transformers import pipeline
folder, sentences, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = [json.loads(line)["text"] for line in open(sentences, encoding="utf-8")]
classify = pipeline("text-classification", model=folder, device="cpu", batch_size=batch)
labels = [o["label"] for o in classify(texts, truncation=True)]
print(len(labels), file=sys.stderr)
"""

PIPELINE_F1 = """
import json, sys
from sklearn.metrics import f1_score
from transformers import pipeline
rows = [json.loads(line) for line in open(sys.argv[2], encoding="utf-8")]
classify = pipeline("text-classification", model=sys.argv[1], device="cpu", batch_size=32)
pred = [o["label"] for o in classify([r["text"] for r in rows], truncation=True)]
print(f1_score([r["label"] for r in rows], pred, average="macro"))
"""

STANCEKIT_F1 = """
import sys, stancekit
model = stancekit.load(sys.argv[4] or None, precision=sys.argv[2], backend=sys.argv[3])
print(stancekit.evaluate(model, sys.argv[1])["macro_f1"])
"""

# --backends name -> (row name, `stancekit label` options, (precision, backend) for the F1)
BACKENDS = {
    "fp32": ("torch fp32", ["--backend", "torch", "--precision", "fp32"], ("fp32", "torch")),
    "bf16": ("torch bf16", ["--backend", "torch", "--precision", "bf16"], ("bf16", "torch")),
    "onnx": ("onnx int8 (default)", ["--backend", "onnx"], ("auto", "onnx")),
}


def build_corpus(path: Path, sentences: int, words_per_sentence: float, seed: int = 0) -> float:
    """Write articles to ``path``; returns the mean words per source sentence."""
    rng = random.Random(seed)
    pool = []
    for name in ("train.jsonl", "dev.jsonl"):
        for line in (ROOT / "data" / name).open(encoding="utf-8"):
            text = json.loads(line)["text"]
            if text[-1:] in ".!?\u201d\"'" and len(text.split()) >= 3:
                pool.append(text)
    pool_mean = sum(len(t.split()) for t in pool) / len(pool)
    join = min(1.0, max(0.0, words_per_sentence / pool_mean - 1.0))  # share of joined pairs
    made, words, n = 0, 0, 0
    with path.open("w", encoding="utf-8") as fh:
        while made < sentences:
            parts = []
            for _ in range(rng.randint(5, 30)):
                text = rng.choice(pool)
                if rng.random() < join:  # a long wire sentence: two clauses joined
                    other = rng.choice(pool).rstrip(".")
                    text = text.rstrip(".") + ", while " + other[:1].lower() + other[1:] + "."
                parts.append(text)
                words += len(text.split())
                made += 1
            paragraphs = [" ".join(parts[i : i + 3]) for i in range(0, len(parts), 3)]
            fh.write(json.dumps({"id": f"art-{n:05d}", "text": "\n\n".join(paragraphs)}) + "\n")
            n += 1
    return words / made


def measure(cmd: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def python_value(code: str, *args: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--words", type=float, default=25.0, help="mean words per sentence")
    parser.add_argument("--batch-sizes", default="32,64,128")
    parser.add_argument("--pipeline-batch-size", type=int, default=32)
    parser.add_argument("--model", default="", help="model folder (default: the shipped model)")
    parser.add_argument("--backends", default="fp32,bf16,onnx")
    args = parser.parse_args()
    py = [sys.executable, "-m", "stancekit"]
    model = ["--model", args.model] if args.model else []
    backends = [BACKENDS[b.strip()] for b in args.backends.split(",")]
    dev = str(ROOT / "data" / "dev.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        words = build_corpus(corpus, args.sentences, args.words)
        size_mb = corpus.stat().st_size / 1e6
        # the onnx backend exports to the user cache on first use: do it untimed
        seed = ROOT / "seeds" / "000_f28d71708d6332bd.txt"
        subprocess.run(
            [*py, "label", str(seed), "-q", "--backend", "onnx", "-o", str(tmp / "w.jsonl")]
            + model,
            check=True,
        )
        rows, counted = [], None
        for name, options, f1_args in backends:
            extra = options + model
            f1 = python_value(STANCEKIT_F1, dev, *f1_args, args.model)
            for batch in args.batch_sizes.split(","):
                out = tmp / "out.jsonl"
                m = measure(
                    [*py, "label", str(corpus), "-q", "--force", "-o", str(out)]
                    + ["--batch-size", batch, *extra]
                )
                n = sum(1 for _ in out.open(encoding="utf-8"))
                counted = counted or n
                rows.append(
                    (f"stancekit {name}", batch, n / m["wall"], m["peak_mb"], f1, m["wall"])
                )
                print(f"  {rows[-1]}", file=sys.stderr, flush=True)
        # transformers.pipeline on the same model, exported
        hf = tmp / "hf"
        subprocess.run([*py, "export", "--format", "hf", str(hf), *model], check=True)
        m = measure(
            [sys.executable, "-c", PIPELINE, str(hf), str(out), str(args.pipeline_batch_size)]
        )
        f1 = python_value(PIPELINE_F1, str(hf), dev)
        rows.append(
            (
                "transformers.pipeline (hf export, fp32)",
                str(args.pipeline_batch_size),
                counted / m["wall"],
                m["peak_mb"],
                f1,
                m["wall"],
            )
        )

    print(
        f"\nCorpus: {counted} sentences after segmentation ({words:.1f} words per sentence on "
        f"average), {size_mb:.1f} MB JSONL. Model: {args.model or 'shipped'}. Wall time "
        f"includes process start and model load; {time.strftime('%Y-%m-%d')}.\n"
    )
    print("| system | batch | sentences/s | peak memory (MB) | dev macro-F1 | wall (s) |")
    print("|---|---|---|---|---|---|")
    for name, batch, rate, peak, f1, wall in rows:
        print(f"| {name} | {batch} | {rate:.0f} | {peak:.0f} | {f1:.3f} | {wall:.1f} |")
    base = rows[-1][2]
    best = max(rows[:-1], key=lambda r: r[2])
    print(
        f"\nFastest: {best[0]} batch {best[1]}, {best[2]:.0f} sentences/s = "
        f"{best[2] / base:.1f}x the transformers pipeline."
    )


if __name__ == "__main__":
    main()

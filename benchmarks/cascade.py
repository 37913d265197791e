"""Early exit for confident ``none`` sentences, measured as a cascade (issue #12):

    python benchmarks/cascade.py [--thresholds 0.7,0.8,0.85,0.9,0.95] [--tolerance 0.5]

Most real sentences perform no act. The fast model labels every sentence; those it calls
``none`` with probability at least T keep its result, and only the rest go to the
default model. For each T: the share of sentences that exit early and macro-F1 (with
speaker token-F1) on every set of ``benchmarks/realtext.py``, next to the default alone.
T is chosen on real dev only: the lowest T whose real-dev macro-F1 is within
``--tolerance`` points of the default's. Then speed, ``stancekit label --no-split`` end
to end: the default alone, the cascade at that T and the fast model alone, on the random
(natural-mix) sentences of the real training split, 3,734 sentences of speeches and
briefings that chose nothing here.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import stancekit
from stancekit.data import read_examples
from stancekit.evaluation import score_results

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtext import SETS  # noqa: E402  (the same sets, named the same)

ROOT = Path(__file__).resolve().parent.parent
SPEED_TEXTS = ROOT / "data/real/train.jsonl.gz"


def exits(result, threshold: float, null: str) -> bool:
    """The fast model's ``result`` ends the cascade: ``null`` with probability >= T."""
    return result.label == null and result.scores[null] >= threshold


def cascade(fast_results, default_results, threshold: float, null: str) -> list:
    """Per sentence: the fast model's result where it exits, else the default's."""
    return [f if exits(f, threshold, null) else d for f, d in zip(fast_results, default_results)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--thresholds", default="0.7,0.8,0.85,0.9,0.95")
    parser.add_argument("--tolerance", type=float, default=0.5, help="macro-F1 points")
    parser.add_argument("--repeats", type=int, default=3, help="speed: best of N")
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]

    default, fast = stancekit.load("default"), stancekit.load("fast")
    labels, null = default.labels, default.config.null_label
    spans = default.config.spans

    def macro(examples, results) -> tuple[float, float]:
        report = score_results(examples, results, labels, null, 0, spans)
        return report["macro_f1"], report.get("speaker", {}).get("token_f1", float("nan"))

    rows, chosen = [], None
    for name, path in SETS.items():
        examples = read_examples(path, labels)
        texts = [e.text for e in examples]
        d, f = default.label_sentences(texts), fast.label_sentences(texts)
        base_f1, base_speaker = macro(examples, d)
        row = {"set": name, "n": len(texts), "default": (base_f1, base_speaker), "cascade": {}}
        for t in thresholds:
            f1, speaker = macro(examples, cascade(f, d, t, null))
            out = sum(exits(r, t, null) for r in f)
            row["cascade"][t] = (f1, speaker, out / len(texts))
        rows.append(row)
        if name == "real dev":
            ok = [t for t in thresholds if 100 * (base_f1 - row["cascade"][t][0]) <= args.tolerance]
            chosen = min(ok) if ok else None

    head = " | ".join(f"T={t}: macro-F1 / speaker / exit" for t in thresholds)
    print(f"| set | n | default macro-F1 / speaker | {head} |")
    print("|---|---|---|" + "---|" * len(thresholds))
    for row in rows:
        cells = " | ".join(
            f"{f1:.3f} / {sp:.3f} / {ex:.0%}" for f1, sp, ex in row["cascade"].values()
        )
        d1, ds = row["default"]
        print(f"| {row['set']} | {row['n']} | {d1:.3f} / {ds:.3f} | {cells} |")
    print(
        f"\nchosen on real dev (lowest T within {args.tolerance} macro-F1 points of the "
        f"default): {chosen}"
    )
    if chosen is None:
        return

    texts = []
    with gzip.open(SPEED_TEXTS, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("sampling") == "random":
                texts.append(row["text"])
    first = fast.label_sentences(texts)
    out = sum(exits(r, chosen, null) for r in first)
    print(
        f"\nspeed: `stancekit label --no-split` end to end (process start to exit, best of "
        f"{args.repeats}) on the {len(texts)} random sentences of the real training split "
        f"({out / len(texts):.0%} exit early at T={chosen}):\n"
    )
    print("| run | sentences/s |\n|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sentences.jsonl"
        src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), "utf-8")
        runs = {
            "default": [],
            f"default --early-exit {chosen}": ["--early-exit", str(chosen)],
            "fast": ["--model", "fast"],
        }
        for name, extra in runs.items():
            best = float("inf")
            for _ in range(args.repeats):
                cmd = [sys.executable, "-m", "stancekit", "label", str(src), "--no-split"]
                started = time.perf_counter()
                done = subprocess.run(
                    [*cmd, "-o", str(Path(tmp) / "out.jsonl"), "--force", "-q", *extra],
                    capture_output=True,
                    text=True,
                )
                best = min(best, time.perf_counter() - started)
                if done.returncode != 0:
                    sys.exit(done.stderr)
            print(f"| {name} | {len(texts) / best:.0f} |")


if __name__ == "__main__":
    main()

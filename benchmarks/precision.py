"""Precision against recall on real text as ``min_score`` rises (``stancekit label
--min-score``): a sentence is flagged with its likeliest act only when that act's
calibrated probability reaches the threshold, else it is ``none``.

    python benchmarks/precision.py [MODEL] [--target 0.85]

For each threshold and stance label: precision (flagged sentences whose gold label is
that act) and recall, on real dev (which chooses the operating point), then on the
random (natural-mix) parts of the real test and held-out sets, which choose nothing. The
chosen threshold is the lowest at which every stance label's precision on real dev
reaches ``--target``. Real dev is enriched with likely acts, so its precision overstates
the precision on a natural mix; the random parts show what a researcher would see.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import stancekit

ROOT = Path(__file__).resolve().parent.parent
THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9)
SETS = {
    "real dev": (ROOT / "data/real/dev.jsonl", False),
    "real test random": (ROOT / "data/real/test.jsonl", True),
    "held-out source random": (ROOT / "data/real/heldout.jsonl", True),
}


def load_set(model, path: Path, random_only: bool) -> tuple[np.ndarray, np.ndarray]:
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    if random_only:
        rows = [r for r in rows if r.get("sampling") == "random"]
    gold = np.array([model.labels.index(r["label"]) for r in rows])
    return model.predict_proba([r["text"] for r in rows]), gold


def scores(probs: np.ndarray, gold: np.ndarray, labels: list[str], t: float) -> dict:
    """Per stance label at threshold ``t``: (precision, recall, flagged, right)."""
    best, top = probs.argmax(axis=1), probs.max(axis=1)
    out = {}
    for j, name in enumerate(labels):
        if name == "none":
            continue
        flagged = (best == j) & (top >= t)
        right = int((flagged & (gold == j)).sum())
        out[name] = (
            right / max(int(flagged.sum()), 1),
            right / max(int((gold == j).sum()), 1),
            int(flagged.sum()),
            right,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--target", type=float, default=0.85)
    args = parser.parse_args()
    model = stancekit.load(args.model)
    labels = model.labels
    acts = [name for name in labels if name != "none"]
    data = {name: load_set(model, path, rnd) for name, (path, rnd) in SETS.items()}
    header = " | ".join(f"{a} P / R (flagged)" for a in acts)
    print(f"| set | min-score | {header} |")
    print("|---|---|" + "---|" * len(acts))
    for name, (probs, gold) in data.items():
        for t in THRESHOLDS:
            row = scores(probs, gold, labels, t)
            cells = " | ".join(
                f"{row[a][0]:.2f} / {row[a][1]:.2f} ({row[a][3]}/{row[a][2]})" for a in acts
            )
            print(f"| {name} ({len(gold)}) | {t or 'off'} | {cells} |")
    probs, gold = data["real dev"]
    chosen = next(
        (
            t
            for t in THRESHOLDS
            if all(p >= args.target for p, *_ in scores(probs, gold, labels, t).values())
        ),
        None,
    )
    print(f"\nlowest min-score with every label's real-dev precision >= {args.target}: {chosen}")


if __name__ == "__main__":
    main()

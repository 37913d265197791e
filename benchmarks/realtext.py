"""Accuracy on real and synthetic text, model by model, in one table (issue #11):

    python benchmarks/realtext.py [MODEL ...] [--precision fp32] [--out runs/realtext.json]

MODEL is a model folder (default: the shipped model). For each model and each set:
macro-F1, ECE, the F1 of every stance label, speaker and target token-F1 on the stance
sentences; for the random (natural-mix) part of each real set, the precision of every
stance label (how far a researcher can trust what it flags); and the seed article's
labels right out of 19. The sets:

- ``synthetic dev``: data/dev.jsonl (written by language models);
- ``challenge``: data/challenge/challenge.jsonl (written by language models, blind);
- ``real dev`` / ``real test``: data/real/dev.jsonl / test.jsonl (UN General Debate and
  White House 2021-26 documents, split by document; the test set is used for nothing
  but these figures);
- ``held-out source``: data/real/heldout.jsonl (White House briefings 2009-16, a source
  never used for training or tuning);
- ``... random``: the sentences of a real set drawn at random (the natural mix).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import stancekit
from stancekit.data import read_examples
from stancekit.evaluation import score_results

ROOT = Path(__file__).resolve().parent.parent
STANCE = ("accuse", "reject", "warn", "pledge")
SETS = {
    "synthetic dev": ROOT / "data/dev.jsonl",
    "challenge": ROOT / "data/challenge/challenge.jsonl",
    "real dev": ROOT / "data/real/dev.jsonl",
    "real test": ROOT / "data/real/test.jsonl",
    "held-out source": ROOT / "data/real/heldout.jsonl",
}
SEED = ROOT / "seeds/000_f28d71708d6332bd"


def seed_right(model) -> int:
    text = SEED.with_suffix(".txt").read_text(encoding="utf-8")
    gold = [json.loads(line) for line in SEED.with_suffix(".labels.jsonl").open()]
    return sum(r.label == g["label"] for r, g in zip(model.label(text), gold))


def row(name: str, report: dict) -> dict:
    out = {
        "set": name,
        "n": report["n"],
        "macro_f1": report["macro_f1"],
        "ece": report["ece"],
        "f1": {k: report["per_label"][k]["f1"] for k in STANCE},
        "precision": {k: report["per_label"][k]["precision"] for k in STANCE},
        "flagged": {
            k: sum(c[i] for c in report["confusion"])
            for i, k in enumerate(report["labels"])
            if k in STANCE
        },
    }
    for role in ("speaker", "target"):
        if role in report:
            out[role] = report[role]["token_f1"]
    return out


def evaluate_model(path: str | None, precision: str) -> dict:
    model = stancekit.load(path, precision=precision)
    labels, null = model.labels, model.config.null_label
    rows = []
    for name, data in SETS.items():
        if not data.exists():
            continue
        examples = read_examples(data, labels)
        results = model.label_sentences([e.text for e in examples])
        rows.append(
            row(name, score_results(examples, results, labels, null, 0, model.config.spans))
        )
        random = [i for i, e in enumerate(examples) if e.groups.get("sampling") == "random"]
        if random:
            sub = score_results(
                [examples[i] for i in random], [results[i] for i in random], labels, null, 0, False
            )
            rows.append(row(f"{name} random", sub))
    return {"model": path or "shipped", "seed_right": seed_right(model), "rows": rows}


def table(results: list[dict]) -> str:
    head = "| model | set | n | macro-F1 | ECE | F1 a/r/w/p | speaker / target token-F1 | stance precision a/r/w/p (flagged) |"
    lines = [head, "|" + "---|" * 8]
    for res in results:
        for r in res["rows"]:
            f1 = " / ".join(f"{r['f1'][k]:.2f}" for k in STANCE)
            spans = f"{r['speaker']:.3f} / {r['target']:.3f}" if "speaker" in r else "–"
            prec = " / ".join(f"{r['precision'][k]:.2f} ({r['flagged'][k]})" for k in STANCE)
            lines.append(
                f"| {res['model']} | {r['set']} | {r['n']} | {r['macro_f1']:.3f} | "
                f"{r['ece']:.3f} | {f1} | {spans} | {prec} |"
            )
        lines.append(
            f"| {res['model']} | seed article | 19 | {res['seed_right']}/19 right | | | | |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", default=[None])
    parser.add_argument("--precision", default="fp32", help="fp32 (default), bf16 or auto")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    results = [evaluate_model(m, args.precision) for m in args.models]
    print(table(results))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

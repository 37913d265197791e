"""Accuracy on real and synthetic text, model by model, in one table (issue #11):

    python benchmarks/realtext.py [MODEL ...] [--backend auto|onnx|torch|onnx,torch]
        [--precision fp32] [--out runs/realtext.json] [--record] [--selection]

MODEL is a model folder (default: the shipped model). ``--backend`` (default ``auto``:
the model's ONNX graph when it has one) may list two backends, e.g. ``onnx,torch``:
then each model is scored under both, and a last table gives the difference of
macro-F1 between them (int8 against fp32 for the shipped model). For each model and set:
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

``--selection`` scores only the sets a choice between candidate models may read
(``SELECTION_SETS``: synthetic dev, challenge, real dev) and the seed article, so that
the real test and held-out sets stay unread until a model is chosen.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import stancekit
from stancekit.data import read_examples
from stancekit.evaluation import score_results, summary_row, summary_table

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "synthetic dev": ROOT / "data/dev.jsonl",
    "challenge": ROOT / "data/challenge/challenge.jsonl",
    "real dev": ROOT / "data/real/dev.jsonl",
    "real test": ROOT / "data/real/test.jsonl",
    "held-out source": ROOT / "data/real/heldout.jsonl",
}
SELECTION_SETS = ("synthetic dev", "challenge", "real dev")
SEED = ROOT / "seeds/000_f28d71708d6332bd"


def seed_right(model) -> int:
    text = SEED.with_suffix(".txt").read_text(encoding="utf-8")
    gold = [json.loads(line) for line in SEED.with_suffix(".labels.jsonl").open()]
    return sum(r.label == g["label"] for r, g in zip(model.label(text), gold))


def score_set(model, name: str) -> tuple[list[dict], list[str]]:
    """Label the sentences of ``SETS[name]`` one by one (no segmentation) and score them:
    the set's ``summary_row`` (macro-F1, ECE, per-label F1, speaker/target token-F1),
    then, when the set has a random part, that part's row; and the predicted labels."""
    labels, null = model.labels, model.config.null_label
    examples = read_examples(SETS[name], labels)
    results = model.label_sentences([e.text for e in examples])
    report = score_results(examples, results, labels, null, 0, model.config.spans)
    rows = [summary_row(name, report)]
    random = [i for i, e in enumerate(examples) if e.groups.get("sampling") == "random"]
    if random:
        sub = score_results(
            [examples[i] for i in random], [results[i] for i in random], labels, null, 0, False
        )
        rows.append(summary_row(f"{name} random", sub))
    return rows, [r.label for r in results]


def evaluate_model(
    path: str | None, precision: str, backend: str = "auto", sets=tuple(SETS)
) -> dict:
    model = stancekit.load(path, backend=backend, precision=precision)
    rows, predicted = [], {}
    for name, data in SETS.items():
        if name not in sets or not data.exists():
            continue
        set_rows, predicted[name] = score_set(model, name)
        rows.extend(set_rows)
    return {
        "model": f"{path or 'shipped'} ({model.backend} {model.precision})",
        "precision": f"{model.backend} {model.precision}",
        "seed_right": seed_right(model),
        "rows": rows,
        "predicted": predicted,
    }


def table(results: list[dict]) -> str:
    blocks = []
    for res in results:
        block = summary_table(res["rows"], model=res["model"])
        blocks.append(
            block
            + f"\n| {res['model']} | seed article | 19 | {res['seed_right']}/19 right | | | | |"
        )
    return "\n".join(b if i == 0 else "\n".join(b.splitlines()[2:]) for i, b in enumerate(blocks))


def difference(results: list[dict]) -> str:
    """Macro-F1 of the first backend minus the second's, per model and set, in points,
    and the share of sentences on which the two give the same label."""
    lines = [
        "| model | set | macro-F1 difference (points) | same label |",
        "|---|---|---|---|",
    ]
    for first, second in zip(results[::2], results[1::2]):
        for a, b in zip(first["rows"], second["rows"]):
            delta = 100 * (a["macro_f1"] - b["macro_f1"])
            same = ""
            if a["set"] in first["predicted"]:
                x, y = first["predicted"][a["set"]], second["predicted"][a["set"]]
                agree = sum(p == q for p, q in zip(x, y))
                same = f"{agree / len(x):.1%} ({len(x) - agree} differ)"
            lines.append(
                f"| {first['model']} - {second['precision']} | {a['set']} | {delta:+.2f} | {same} |"
            )
    return "\n".join(lines)


def record(path: str, result: dict) -> None:
    """Store the figures in the model's config and rewrite its card, so that the card
    leads with them (``--record``)."""
    from stancekit.config import CARD_NAME, ModelConfig
    from stancekit.training import model_card

    config = ModelConfig.load(path)
    config.metrics["evaluation"] = {
        "command": "python benchmarks/realtext.py " + path + " --record",
        "precision": result["precision"],
        "rows": result["rows"],
        "seed_right": result["seed_right"],
    }
    config.save(path)
    (Path(path) / CARD_NAME).write_text(model_card(config), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", default=[None])
    parser.add_argument(
        "--precision", default="fp32", help="torch backend: fp32 (default), bf16 or auto"
    )
    parser.add_argument(
        "--backend", default="auto", help="auto (default), onnx, torch, or two: onnx,torch"
    )
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--record", action="store_true", help="store the figures in each model's card"
    )
    parser.add_argument(
        "--selection",
        action="store_true",
        help="only the sets a model choice may read: synthetic dev, challenge, real dev "
        "(and the seed article); the real test and held-out sets stay unread",
    )
    args = parser.parse_args()
    backends = args.backend.split(",")
    if args.record and (len(backends) > 1 or args.selection):
        parser.error("--record takes one backend (the one the model ships with) and every set.")
    sets = SELECTION_SETS if args.selection else tuple(SETS)
    results = [evaluate_model(m, args.precision, b, sets) for m in args.models for b in backends]
    print(table(results))
    if len(backends) == 2:
        print("\n" + difference(results))
    if args.record:
        for path, result in zip(args.models, results):
            record(path or str(stancekit.load().path), result)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

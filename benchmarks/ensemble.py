"""Would an ensemble of the MiniLM models we have be a better teacher? Real dev only.

    python benchmarks/ensemble.py MODEL MODEL [MODEL ...]

Each model labels the real dev sentences (``data/real/dev.jsonl``) on its own; then the
first 2, 3, ... models together, by the mean of their calibrated probabilities. A teacher
for distillation should beat its student's start clearly; if averaging models of the same
base does not, the base rather than one model's training is what limits them. No test or
held-out sentence is read. For example, v5 (``models/default``), v4 (``git archive 9bd8501
models/default | tar -x -C runs/v4``) and MiniLM fine-tuned on real text alone
(``benchmarks/base_finetune.py``)::

    python benchmarks/ensemble.py models/default runs/v4/models/default \\
        runs/base-finetune/model
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import stancekit
from stancekit.data import read_examples
from stancekit.evaluation import classification_report

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtext import SETS  # noqa: E402  (the same sets, named the same)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", help="model folders (the same labels)")
    args = parser.parse_args()

    models = [stancekit.load(m) for m in args.models]
    labels = models[0].labels
    if any(m.labels != labels for m in models):
        raise SystemExit("the models' labels differ; an ensemble needs the same labels")
    examples = read_examples(SETS["real dev"], labels)
    gold = [e.label for e in examples]
    probs = [m.predict_proba([e.text for e in examples]) for m in models]

    def macro_f1(p: np.ndarray) -> float:
        return classification_report(gold, [labels[i] for i in p.argmax(1)], labels)["macro_f1"]

    print(f"real dev ({len(examples)} sentences), macro-F1\n")
    print("| models | real dev macro-F1 |")
    print("|---|---|")
    for name, p in zip(args.models, probs):
        print(f"| {name} | {macro_f1(p):.4f} |")
    for k in range(2, len(probs) + 1):
        together = " + ".join(args.models[:k])
        print(f"| mean of {together} | {macro_f1(np.mean(probs[:k], axis=0)):.4f} |")


if __name__ == "__main__":
    main()

"""Rebuild the golden outputs of the shipped model (run after shipping a new model):

    python tests/golden/build.py

Writes ``shipped.jsonl``: 300 sentences (the first 250 of the real test set and the
first 50 of the challenge set) with the shipped model's label, rounded probabilities
and spans, from its shipped ONNX graph. ``tests/test_backends.py`` compares every
backend with it, so a change of runtime or precision that moves a label shows as a diff.
"""

import json
from pathlib import Path

import stancekit

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "shipped.jsonl"


def sentences() -> list[str]:
    texts = []
    for path, n in (
        (ROOT / "data/real/test.jsonl", 250),
        (ROOT / "data/challenge/challenge.jsonl", 50),
    ):
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for _, line in zip(range(n), fh)]
    return texts


def main() -> None:
    model = stancekit.load()
    assert model.backend == "onnx"
    with OUT.open("w", encoding="utf-8") as fh:
        for r in model.label_sentences(sentences()):
            row = {
                "text": r.text,
                "label": r.label,
                "scores": {k: round(v, 4) for k, v in r.scores.items()},
                "speaker": r.speaker and r.speaker.text,
                "target": r.target and r.target.text,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

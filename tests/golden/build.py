"""Rebuild the golden outputs of the shipped models (run after shipping a new model):

    python tests/golden/build.py            # both
    python tests/golden/build.py fast       # one

Writes ``shipped.jsonl`` (the default model) and ``fast.jsonl`` (the fast model): 300 sentences (the first 250 of the real test set and the
first 50 of the challenge set) with the shipped model's label, rounded probabilities
and spans, from its shipped ONNX graph. ``tests/test_backends.py`` compares every
backend with it (``tests/test_fast_model.py`` the fast graph), so a change of runtime or
precision that moves a label shows as a diff.
"""

import json
import sys
from pathlib import Path

import stancekit

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
FILES = {"default": HERE / "shipped.jsonl", "fast": HERE / "fast.jsonl"}


def sentences() -> list[str]:
    texts = []
    for path, n in (
        (ROOT / "data/real/test.jsonl", 250),
        (ROOT / "data/challenge/challenge.jsonl", 50),
    ):
        with path.open(encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for _, line in zip(range(n), fh)]
    return texts


def build(name: str) -> None:
    model = stancekit.load(name)
    assert model.backend == "onnx"
    with FILES[name].open("w", encoding="utf-8") as fh:
        for r in model.label_sentences(sentences()):
            row = {
                "text": r.text,
                "label": r.label,
                "scores": {k: round(v, 4) for k, v in r.scores.items()},
                "speaker": r.speaker and r.speaker.text,
                "target": r.target and r.target.text,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {FILES[name]}")


def main() -> None:
    for name in sys.argv[1:] or list(FILES):
        build(name)


if __name__ == "__main__":
    main()

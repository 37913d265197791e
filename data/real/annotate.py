"""Annotation workflow for the real-text corpus (see data/real/DATASHEET.md).

    python data/real/annotate.py batches            # sample*.jsonl.gz -> annotation/batches/NN.txt
    python data/real/annotate.py check FILE BATCH   # validate one annotator's output file
    python data/real/annotate.py disagreements NN   # a/NN + b/NN -> annotation/adjudicate/NN.txt
    python data/real/annotate.py merge              # final labels, agreement, real.jsonl.gz

Annotators see the codebook and a batch file only: each sentence with its neighbours,
numbered within the batch; never the sampling stratum, the split or a model's output.
Each writes one JSON line per sentence: ``{"n": 17, "label": "accuse", "also": [],
"speaker": "We", "target": "the regime"}`` (speaker/target exact substrings of the
sentence, or null).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANN = HERE / "annotation"
LABELS = ("accuse", "reject", "warn", "pledge", "none")
BATCH_SIZE = 400
ROUNDS = 8  # annotation rounds drawn by sample.py, one file each


def sample_file(n: int) -> str:
    """The file ``sample.py --round n`` writes (round 1: ``sample.jsonl.gz``)."""
    return "sample.jsonl.gz" if n == 1 else f"sample{n}.jsonl.gz"


SAMPLES = tuple(sample_file(n) for n in range(1, ROUNDS + 1))
SPLIT_ORDER = {"train": 0, "dev": 1, "test": 2, "heldout": 3}


def load_sample(name: str) -> list[dict]:
    path = HERE / name
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def batch_rows() -> list[list[dict]]:
    """The samples cut into batches, train documents first, in a fixed shuffled order:
    round 1 (``sample.jsonl.gz``) gives batches 01-16, round 2 (``sample2.jsonl.gz``)
    17-18, round 3 (``sample3.jsonl.gz``) 19, round 4 (``sample4.jsonl.gz``) 20-27, round 5
    (``sample5.jsonl.gz``) 28-35, round 6 (``sample6.jsonl.gz``, evaluation only) 36-40,
    round 7 (``sample7.jsonl.gz``, chosen with model v6) 41-46, round 8
    (``sample8.jsonl.gz``, likewise) 47-57."""
    import random

    batches = []
    for name in SAMPLES:
        rows = load_sample(name)
        random.Random(11).shuffle(rows)
        rows.sort(key=lambda r: SPLIT_ORDER[r["split"]])
        batches += [rows[i : i + BATCH_SIZE] for i in range(0, len(rows), BATCH_SIZE)]
    return batches


def _render(n: int, row: dict) -> str:
    return (
        f"[{n}]\n"
        f"  before: {row['previous'] or '(start of document)'}\n"
        f"  SENTENCE: {row['text']}\n"
        f"  after: {row['next'] or '(end of document)'}\n"
    )


def write_batches() -> None:
    out = ANN / "batches"
    out.mkdir(parents=True, exist_ok=True)
    index = {}
    for b, rows in enumerate(batch_rows(), 1):
        name = f"{b:02d}"
        text = "".join(_render(n, row) + "\n" for n, row in enumerate(rows, 1))
        index.update({f"{name}:{n}": row["id"] for n, row in enumerate(rows, 1)})
        path = out / f"{name}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        print(f"batch {name}: {len(rows)} sentences ({rows[0]['split']}..{rows[-1]['split']})")
    (ANN / "index.json").write_text(json.dumps(index, indent=0) + "\n", encoding="utf-8")


def batch_sentences(name: str) -> list[str]:
    """The sentences of batch ``name`` in order (parsed back from the batch file)."""
    sentences = []
    for line in (ANN / "batches" / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("  SENTENCE: "):
            sentences.append(line[len("  SENTENCE: ") :])
    return sentences


def read_annotations(path: Path, sentences: list[str]) -> tuple[dict[int, dict], list[str]]:
    """Parse and validate one annotator's file; returns (annotations by n, problems)."""
    problems, found = [], {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {i}: not JSON ({exc.msg})")
            continue
        n = item.get("n")
        if not isinstance(n, int) or not 1 <= n <= len(sentences):
            problems.append(f"line {i}: n must be 1..{len(sentences)}")
            continue
        if n in found:
            problems.append(f"line {i}: sentence {n} annotated twice")
        label, also = item.get("label"), item.get("also") or []
        if label not in LABELS:
            problems.append(f"line {i} (n={n}): label {label!r} not one of {LABELS}")
        if not isinstance(also, list) or any(a not in LABELS[:4] or a == label for a in also):
            problems.append(f"line {i} (n={n}): also must list other stance labels")
        for field in ("speaker", "target"):
            span = item.get(field)
            if span is None:
                continue
            if label == "none":
                problems.append(f"line {i} (n={n}): {field} must be null for none")
            elif not isinstance(span, str) or not span or span not in sentences[n - 1]:
                problems.append(f"line {i} (n={n}): {field} {span!r} is not in the sentence")
        found[n] = {
            "label": label,
            "also": list(also),
            "speaker": item.get("speaker"),
            "target": item.get("target"),
        }
    missing = [n for n in range(1, len(sentences) + 1) if n not in found]
    if missing:
        problems.append(f"{len(missing)} sentence(s) not annotated, first: {missing[:10]}")
    return found, problems


def check(path: str, name: str) -> int:
    _, problems = read_annotations(Path(path), batch_sentences(name))
    for problem in problems:
        print(problem)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def same(a: dict, b: dict) -> bool:
    return (
        a["label"] == b["label"]
        and sorted(a["also"]) == sorted(b["also"])
        and a["speaker"] == b["speaker"]
        and a["target"] == b["target"]
    )


def disagreements(name: str) -> int:
    sentences = batch_sentences(name)
    a, pa = read_annotations(ANN / "a" / f"{name}.jsonl", sentences)
    b, pb = read_annotations(ANN / "b" / f"{name}.jsonl", sentences)
    if pa or pb:
        print("fix the annotation files first:", *(pa + pb), sep="\n")
        return 1
    blocks = (ANN / "batches" / f"{name}.txt").read_text(encoding="utf-8").split("\n\n")
    out = ANN / "adjudicate"
    out.mkdir(exist_ok=True)
    count = 0
    with (out / f"{name}.txt").open("w", encoding="utf-8") as handle:
        for n in range(1, len(sentences) + 1):
            if same(a[n], b[n]):
                continue
            count += 1
            handle.write(blocks[n - 1].rstrip("\n") + "\n")
            for who, ann in (("annotator 1", a[n]), ("annotator 2", b[n])):
                handle.write(f"  {who}: {json.dumps(ann, ensure_ascii=False)}\n")
            handle.write("\n")
    print(f"batch {name}: {count} of {len(sentences)} sentences to adjudicate")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "batches":
        write_batches()
    elif command == "check" and len(sys.argv) == 4:
        sys.exit(check(sys.argv[2], sys.argv[3]))
    elif command == "disagreements" and len(sys.argv) == 3:
        sys.exit(disagreements(sys.argv[2]))
    elif command == "merge":
        from merge import main as merge_main

        merge_main()
    else:
        sys.exit(__doc__)

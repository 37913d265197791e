"""Codebook v2 re-check of the hand-written corpus (data/DATASHEET.md, step 6).

    python data/tools/v2_recheck.py candidates   # -> data/tools/v2/candidates.txt
    python data/tools/v2_recheck.py apply        # reviewers' decisions -> data/raw/*.jsonl
    python data/tools/v2_recheck.py candidates challenge   # the same for the challenge set
    python data/tools/v2_recheck.py apply challenge         # (data/tools/v2/challenge/)

Candidates are rows that codebook v2's new rules (9-13) may label differently: a stance
label on a sentence that reports a deed and names no speech act, ``none`` on an
agreement or acceptance, claims about oneself, declining, expectations labelled pledge.
Reviewers (helpers who see the codebook and the rows, nothing else) write one JSON line
per changed row to ``data/tools/v2/decisions.jsonl``: ``{"n": 12, "label": "none",
"also": [], "speaker": null, "target": null}``; rows they keep are not listed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE.parent / "raw"
OUT = HERE / "v2"
CHALLENGE = HERE.parent / "challenge"
CORPUS = {"raw": (RAW, OUT), "challenge": (CHALLENGE, OUT / "challenge")}

DEED = re.compile(
    r"\b(killed|shell(ed|ing)|attacked|arrest(ed)?|deport(ed)?|expell?(ed)?|banned|imposed|"
    r"deployed|closed|delivered|gave|donated|granted|released|signed|voted|seized|detained|"
    r"launched|struck|bombed|fired|raided|sanctioned|froze|suspended|sent|transferred|"
    r"disbursed|approved|allocated|evacuated|jailed|sentenced|fined)\b",
    re.IGNORECASE,
)
SPEECH_ACT = re.compile(
    r"accus|blam|condemn|denounc|criticis|criticiz|alleg|warn|threat|pledg|promis|vow|"
    r"commit|reject|\bden(y|ied|ies)\b|refus|oppos|dismiss|will\b",
    re.IGNORECASE,
)
AGREE = re.compile(r"\b(agree[sd]? to|accept(ed|s)?)\b", re.IGNORECASE)
SELF_CLAIM = re.compile(r"claim(ed)? responsibility|admitt|apologi|took responsibility", re.I)
DECLINE = re.compile(r"declin", re.IGNORECASE)
EXPECT = re.compile(r"\b(expects?|expected|confident|predict\w*|hopes?|hoped)\b", re.I)


def reason(row: dict) -> str | None:
    text, label = row["text"], row["label"]
    if label != "none" and DEED.search(text) and not SPEECH_ACT.search(text):
        return "deed"
    if label == "none" and AGREE.search(text):
        return "agreement"
    if label != "none" and SELF_CLAIM.search(text):
        return "claim about oneself"
    if DECLINE.search(text):
        return "declining"
    if label == "pledge" and EXPECT.search(text):
        return "expectation"
    return None


def rows(folder: Path = RAW) -> list[tuple[str, int, dict]]:
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                out.append((path.name, i, json.loads(line)))
    return out


def candidates(corpus: str = "raw") -> None:
    folder, out = CORPUS[corpus]
    out.mkdir(parents=True, exist_ok=True)
    found, counts = [], Counter()
    for name, i, row in rows(folder):
        why = reason(row)
        if why:
            counts[why] += 1
            found.append({"file": name, "line": i, "why": why})
    with (
        (out / "candidates.txt").open("w", encoding="utf-8") as text,
        (out / "candidates.jsonl").open("w", encoding="utf-8") as index,
    ):
        lookup = {(n, i): r for n, i, r in rows(folder)}
        for n, c in enumerate(found, 1):
            row = lookup[(c["file"], c["line"])]
            current = {k: row.get(k) for k in ("label", "also", "speaker", "target")}
            text.write(
                f"[{n}] {row['text']}\n  current: {json.dumps(current, ensure_ascii=False)}\n\n"
            )
            index.write(json.dumps({"n": n, **c}) + "\n")
    print(f"{len(found)} candidates: {dict(counts)}")


def apply(corpus: str = "raw") -> None:
    folder, out = CORPUS[corpus]
    index = {c["n"]: c for c in map(json.loads, (out / "candidates.jsonl").open())}
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").open() if line.strip()]
    by_file: dict[str, dict[int, dict]] = {}
    for d in decisions:
        c = index[d["n"]]
        by_file.setdefault(c["file"], {})[c["line"]] = d
    changed = Counter()
    for name, edits in by_file.items():
        path = folder / name
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, d in edits.items():
            row = json.loads(lines[i])
            before = row["label"]
            for key in ("label", "also", "speaker", "target"):
                row[key] = d.get(key) if key != "also" else d.get("also") or []
            if row["label"] == "none":
                row["speaker"] = row["target"] = None
            row["v2_recheck"] = f"{before} -> {row['label']}"
            changed[(before, row["label"])] += 1
            lines[i] = json.dumps(row, ensure_ascii=False)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for (a, b), n in sorted(changed.items()):
        print(f"{a} -> {b}: {n}")
    print(f"{sum(changed.values())} rows changed")


if __name__ == "__main__":
    command = {"candidates": candidates, "apply": apply}.get(
        sys.argv[1] if len(sys.argv) > 1 else ""
    )
    if command is None or len(sys.argv) > 3 or sys.argv[2:3] not in ([], ["raw"], ["challenge"]):
        sys.exit(__doc__)
    command(*sys.argv[2:3])

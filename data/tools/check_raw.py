"""Check a raw corpus file written by hand: python data/tools/check_raw.py FILE.jsonl

Prints one line per problem (file:line: problem) and a summary of label counts
and distinct cue expressions per label. Exit code 1 when any problem is found.
"""

import collections
import json
import sys

LABELS = {"accuse", "reject", "warn", "pledge", "none"}
STANCES = LABELS - {"none"}


def check(path):
    problems = 0
    counts = collections.Counter()
    cues = collections.defaultdict(set)
    seen = set()
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path}:{n}: invalid JSON ({exc})")
                problems += 1
                continue
            text = row.get("text")
            label = row.get("label")
            also = row.get("also", [])
            msgs = []
            if not isinstance(text, str) or not text.strip():
                msgs.append("empty or missing text")
                text = ""
            elif text != text.strip():
                msgs.append("text has leading/trailing whitespace")
            if label not in LABELS:
                msgs.append(f"unknown label {label!r}")
            if not isinstance(also, list) or any(a not in STANCES or a == label for a in also):
                msgs.append(f"bad 'also' {also!r}: a list of stance labels other than the primary")
            for field in ("speaker", "target"):
                span = row.get(field)
                if span is not None and (not isinstance(span, str) or not span or span not in text):
                    msgs.append(f"{field} {span!r} is not an exact substring of the text")
            if label == "none" and (row.get("speaker") or row.get("target")):
                msgs.append("a 'none' sentence must have speaker and target null")
            if label in STANCES and not row.get("speaker") and "speaker" not in row:
                msgs.append("missing 'speaker' field (use null when the sentence names none)")
            key = " ".join(text.lower().split())
            if key in seen:
                msgs.append("duplicate text")
            seen.add(key)
            for m in msgs:
                print(f"{path}:{n}: {m}")
            problems += len(msgs)
            counts[label] += 1
            if row.get("cue"):
                cues[label].add(row["cue"].lower().strip())
    total = sum(counts.values())
    print(f"{path}: {total} rows; " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    print("distinct cues: " + ", ".join(f"{k}={len(v)}" for k, v in sorted(cues.items())))
    return problems


if __name__ == "__main__":
    bad = sum(check(p) for p in sys.argv[1:])
    print(f"{bad} problem(s)")
    sys.exit(1 if bad else 0)
